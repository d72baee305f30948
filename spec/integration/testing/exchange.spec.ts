import { expect } from 'chai';
import { startTexasServer, type TexasServer } from '../../../lib/testing/texas-server.js';
import { useTexasServer } from '../../support/testing-server.js';

// The testing server's token exchange refuses what Entra ID and TokenX refuse, so that an
// on-behalf-of test cannot pass with a user token that production would turn down.

const SCOPE = 'api://dev-gcp.team.api/.default';

async function exchange(server: TexasServer, body: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(server.exchangeEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('startTexasServer: the token exchange is as strict as Entra ID and TokenX', () => {
  let server: TexasServer;
  useTexasServer((started) => (server = started));

  it("exchanges this app's Entra ID user token (entra_id) and an ID-porten or TokenX token (tokenx)", async () => {
    const entra = await exchange(server, { identity_provider: 'entra_id', target: SCOPE, user_token: await server.mintUserToken('u1') });
    expect(entra.status, JSON.stringify(entra.body)).to.equal(200);
    for (const identityProvider of ['idporten', 'tokenx'] as const) {
      const user_token = await server.mintUserToken('u2', { identityProvider });
      const answer = await exchange(server, { identity_provider: 'tokenx', target: 'dev-gcp:team:api', user_token });
      expect(answer.status, JSON.stringify(answer.body)).to.equal(200);
    }
  });

  it("refuses a user token for another app's audience with AADSTS500131", async () => {
    const user_token = await server.mintUserToken('u3', { audience: 'api://dev-gcp.team.someone-else' });
    const answer = await exchange(server, { identity_provider: 'entra_id', target: SCOPE, user_token });
    expect(answer.status).to.equal(400);
    expect(answer.body.error).to.equal('invalid_grant');
    expect(String(answer.body.error_description)).to.match(/^AADSTS500131: Assertion audience does not match .*'api:\/\/dev-gcp\.team\.someone-else'/);
  });

  it('refuses an expired user token, and one whose nbf is an hour ahead, with AADSTS500133 (not AADSTS50013)', async () => {
    for (const opts of [{ expiresInSeconds: -10 }, { notBeforeInSeconds: 3600 }]) {
      const user_token = await server.mintUserToken('u4', opts);
      const answer = await exchange(server, { identity_provider: 'entra_id', target: SCOPE, user_token });
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('invalid_grant');
      expect(String(answer.body.error_description)).to.match(/^AADSTS500133: Assertion is not within its valid time range\./);
    }
  });

  it("refuses another provider's or another server's token in an Entra ID exchange with AADSTS50013", async () => {
    const other = await startTexasServer();
    const tokens = [await server.mintUserToken('u5', { identityProvider: 'tokenx' }), await other.mintUserToken('u6')];
    await other.close();
    for (const user_token of tokens) {
      const answer = await exchange(server, { identity_provider: 'entra_id', target: SCOPE, user_token });
      expect(answer.status).to.equal(400);
      expect(String(answer.body.error_description)).to.match(/^AADSTS50013: /);
    }
  });

  it('refuses an Entra ID token, an expired one, and one for another app in a TokenX exchange', async () => {
    const refused = [
      await server.mintUserToken('u7'),
      await server.mintUserToken('u8', { identityProvider: 'idporten', expiresInSeconds: -10 }),
      await server.mintUserToken('u9', { identityProvider: 'idporten', audience: 'dev-gcp:team:someone-else' }),
    ];
    const descriptions = [];
    for (const user_token of refused) {
      const answer = await exchange(server, { identity_provider: 'tokenx', target: 'dev-gcp:team:api', user_token });
      expect(answer.status).to.equal(400);
      expect(answer.body.error).to.equal('invalid_request');
      descriptions.push(answer.body.error_description);
    }
    expect(descriptions[0]).to.include('is not trusted by TokenX');
    expect(descriptions[1]).to.include('expired');
    expect(descriptions[2]).to.include('audience');
  });
});

describe('startTexasServer: skip_cache is a boolean, as Texas deserializes it', () => {
  let server: TexasServer;
  useTexasServer((started) => (server = started));

  it('refuses skip_cache "true" as a JSON string, and a form value other than true or false, with a 400 naming the field', async () => {
    const json = await fetch(server.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity_provider: 'entra_id', target: SCOPE, skip_cache: 'true' }),
    });
    const form = await fetch(server.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `identity_provider=entra_id&target=${encodeURIComponent(SCOPE)}&skip_cache=yes`,
    });
    for (const response of [json, form]) {
      const body = (await response.json()) as Record<string, unknown>;
      expect(response.status).to.equal(400);
      expect(body.error).to.equal('invalid_request');
      expect(String(body.error_description)).to.match(/^Failed to deserialize .*skip_cache/);
    }
    expect(server.mints).to.equal(0);
  });
});
