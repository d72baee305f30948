import { expect } from 'chai';
import type { JWTPayload } from 'jose';
import { exchangeEndpoint } from '../../../lib/testing/texas-exchange.js';
import { createTexasKeys, type TexasKeys } from '../../../lib/testing/texas-keys.js';
import type { TexasContext, TexasError } from '../../../lib/testing/texas-request.js';

describe('testing/texas-exchange', () => {
  const now = 1_700_000_000;
  const app = 'dev-gcp:team:app';
  const audiences = { entra_id: 'api://dev-gcp.team.app', tokenx: app, idporten: app, maskinporten: app };
  let keys: TexasKeys;
  let context: TexasContext;
  const revoked = new Set<string>();
  const keysSeen: string[] = [];
  before(async () => {
    keys = await createTexasKeys(
      () => 'http://127.0.0.1:1',
      () => now,
    );
    context = {
      now: () => now * 1000,
      nowSeconds: () => now,
      keys,
      enabled: new Set(['entra_id', 'azuread', 'tokenx', 'idporten', 'maskinporten']),
      app,
      audiences,
      revoked,
      async cached(key: string, _skip: boolean, provider: string, claims: () => Promise<JWTPayload>) {
        keysSeen.push(key);
        return { token: JSON.stringify({ provider, ...(await claims()) }), mintedAt: now * 1000, lifetime: 3599 };
      },
    };
  });
  const exchange = async (body: Record<string, unknown>) =>
    JSON.parse(((await exchangeEndpoint(context, body)) as { access_token: string }).access_token) as Record<string, unknown>;
  const refusal = (body: Record<string, unknown>) =>
    exchangeEndpoint(context, body).then(
      () => expect.fail('expected a refusal'),
      (e: TexasError) => e,
    );

  it("exchanges a user's token for one with the user's sub, cached per target, provider and user token", async () => {
    const user = await keys.sign('entra_id', { sub: 'user-1', aud: audiences.entra_id }, 600);
    expect(await exchange({ identity_provider: 'azuread', target: 'api://c.ns.other/.default', user_token: user })).to.deep.equal({
      provider: 'entra_id',
      aud: 'api://c.ns.other',
      azp: 'app',
      sub: 'user-1',
      idp: 'entra_id',
    });
    expect(keysSeen.at(-1)).to.equal(JSON.stringify(['api://c.ns.other/.default', 'entra_id', user]));
    const idporten = await keys.sign('idporten', { sub: 'citizen', aud: app }, 600);
    expect(await exchange({ identity_provider: 'tokenx', target: 'c:ns:other', user_token: idporten })).to.include({ sub: 'citizen', aud: 'c:ns:other' });
  });

  it('refuses as Entra ID words it: a foreign or revoked token, one out of its time range, one for another app', async () => {
    const body = (user_token: string) => ({ identity_provider: 'entra_id', target: 'api://c.ns.other/.default', user_token });
    const tokenx = await keys.sign('tokenx', { sub: 'u', aud: audiences.entra_id }, 600);
    const expired = await keys.sign('entra_id', { sub: 'u', aud: audiences.entra_id }, -1);
    const other = await keys.sign('entra_id', { sub: 'u', aud: 'api://c.ns.someone-else' }, 600);
    const good = await keys.sign('entra_id', { sub: 'u', aud: audiences.entra_id }, 600);
    revoked.add(good);
    expect((await refusal(body(tokenx))).description).to.match(/^AADSTS50013: /);
    expect((await refusal(body(`Bearer ${good}`))).description).to.match(/^AADSTS50013: /);
    expect((await refusal(body(good))).description).to.match(/^AADSTS50013: /);
    expect(await refusal(body(expired))).to.include({ status: 400, error: 'invalid_grant' });
    expect((await refusal(body(expired))).description).to.match(/^AADSTS500133: /);
    expect((await refusal(body(other))).description).to.match(/^AADSTS500131: /);
  });

  it('refuses as TokenX words it: an Entra ID token, an expired token, one for another app', async () => {
    const body = (user_token: string) => ({ identity_provider: 'tokenx', target: 'c:ns:other', user_token });
    expect((await refusal(body(await keys.sign('entra_id', { sub: 'u', aud: app }, 600)))).description).to.match(/is not trusted by TokenX/);
    expect((await refusal(body(await keys.sign('idporten', { sub: 'u', aud: app }, -1)))).description).to.match(/expired or not yet valid$/);
    expect((await refusal(body(await keys.sign('idporten', { sub: 'u', aud: 'c:ns:x' }, 600)))).description).to.match(/is not this app \(dev-gcp:team:app\)$/);
    expect((await refusal(body('junk'))).description).to.match(/invalid signature or unknown issuer$/);
    expect((await refusal({ identity_provider: 'maskinporten', target: 's', user_token: 'x' })).description).to.equal(
      "identity provider 'maskinporten' does not support token exchange",
    );
  });
});
