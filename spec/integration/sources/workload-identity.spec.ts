import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { decodeJwt } from 'jose';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { fromEnv } from '../../../lib/sources/from-env.js';
import { workloadIdentity } from '../../../lib/sources/workload-identity.js';
import { type TexasServer } from '../../../lib/testing/texas-server.js';
import { useTexasServer } from '../../support/testing-server.js';

// Workload identity federation and the clientAssertion callback against the testing server's
// Entra ID endpoint, which verifies federated tokens as Entra ID does (issuer + subject +
// audience, the issuer's keys, exp).

const SCOPE = 'api://dev-gcp.team.api/.default';

async function failure(promise: Promise<unknown>): Promise<TokenError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(TokenError);
  return error as TokenError;
}

/** Every view of an error a log line or a report could hold. */
const views = (error: Error) => [inspect(error, { depth: 5 }), JSON.stringify(error), String(error), error.stack ?? ''];

describe('workloadIdentity() against the Entra ID endpoint of the testing server', () => {
  let server: TexasServer;
  let dir: string;
  let file: string;
  useTexasServer((started) => (server = started));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'axios-m2m-wi-'));
    file = join(dir, 'token');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const source = () =>
    workloadIdentity({ tokenFile: file, clientId: server.entraClient.clientId, tokenEndpoint: server.entraTokenEndpoint, allowInsecure: true, retries: 0 });
  const sentAssertions = () => server.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')).map((r) => r.body.client_assertion);

  it('gets a token with the file as the assertion, re-read for every request (a rotated file sends its new content)', async () => {
    const first = await server.mintServiceAccountToken();
    writeFileSync(file, `${first}\n`);
    const wi = source();
    const { token } = await wi.getToken(SCOPE);
    expect(await server.verify(token)).to.include({ azp: server.entraClient.clientId });
    const second = await server.mintServiceAccountToken();
    writeFileSync(file, second);
    const before = sentAssertions().length;
    await wi.getToken(SCOPE, { forceRefresh: true });
    expect(sentAssertions().slice(before - 1)).to.deep.equal([first, second]);
  });

  it('gives a configuration error naming the path for a missing or empty file, with no request sent, and works once the file turns up', async () => {
    const wi = source();
    const before = server.requests.length;
    const missing = await failure(wi.getToken(SCOPE));
    expect(missing.code).to.equal('configuration');
    expect(missing.message).to.include(file).and.include('does not exist');
    writeFileSync(file, '  \n');
    const empty = await failure(wi.getToken(SCOPE));
    expect(empty.message).to.include(file).and.include('is empty');
    expect(server.requests.length).to.equal(before);
    writeFileSync(file, await server.mintServiceAccountToken());
    expect((await wi.getToken(SCOPE)).token).to.be.a('string');
  });

  it('answers AADSTS700024 (expired assertion) with one immediate retry reading the file again', async () => {
    const expired = await server.mintServiceAccountToken({ expiresIn: -1000 });
    writeFileSync(file, expired);
    const wi = source();
    // The platform rotates the file while the first request is on its way.
    const fresh = await server.mintServiceAccountToken();
    const original = server.requests.push.bind(server.requests);
    let rotated = false;
    server.requests.push = (...items) => {
      if (!rotated && items.some((r) => r.path === new URL(server.entraTokenEndpoint).pathname)) {
        rotated = true;
        writeFileSync(file, fresh);
      }
      return original(...items);
    };
    try {
      await wi.getToken(SCOPE);
    } finally {
      server.requests.push = original;
    }
    const sent = sentAssertions().slice(-2);
    expect(sent).to.deep.equal([expired, fresh]);
    expect(server.requests.at(-2)!.status).to.equal(401);
  });

  it('retries AADSTS700024 once only, and gives the error without the assertion in any view', async () => {
    const expired = await server.mintServiceAccountToken({ expiresIn: -1000 });
    writeFileSync(file, expired);
    const before = sentAssertions().length;
    const error = await failure(source().getToken(SCOPE));
    expect(sentAssertions().length - before).to.equal(2);
    expect(error).to.include({ code: 'invalid_client', status: 401 });
    expect(error.errorCodes).to.deep.equal([700024]);
    for (const view of views(error)) expect(view).not.to.include(expired.split('.')[1]);
  });

  it('is what fromEnv() makes of AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_AUTHORITY_HOST', async () => {
    writeFileSync(file, await server.mintServiceAccountToken());
    for (const host of [server.url, `${server.url}/`]) {
      const env = { AZURE_FEDERATED_TOKEN_FILE: file, AZURE_CLIENT_ID: server.entraClient.clientId, AZURE_TENANT_ID: server.tenantId, AZURE_AUTHORITY_HOST: host };
      expect((await fromEnv({ env, allowInsecure: true }).getToken(SCOPE)).token).to.be.a('string');
    }
    const sdk = {
      AZURE_CLIENT_SECRET: server.entraClient.clientSecret,
      AZURE_CLIENT_ID: server.entraClient.clientId,
      AZURE_TENANT_ID: server.tenantId,
      AZURE_AUTHORITY_HOST: server.url,
    };
    expect((await fromEnv({ env: sdk, allowInsecure: true }).getToken(SCOPE)).token).to.be.a('string');
    expect(() => fromEnv({ env: { AZURE_FEDERATED_TOKEN_FILE: file } })).to.throw(TokenError, /AZURE_TENANT_ID and AZURE_CLIENT_ID are not set/);
  });
});

describe('clientCredentials({ clientAssertion }) against the Entra ID endpoint', () => {
  let server: TexasServer;
  useTexasServer((started) => (server = started));

  it('calls the callback for every token request with the client id and endpoint, and sends its string as a jwt-bearer assertion, no secret', async () => {
    const calls: unknown[] = [];
    const source = clientCredentials({
      tokenEndpoint: server.entraTokenEndpoint,
      clientId: server.entraClient.clientId,
      allowInsecure: true,
      clientAssertion: async ({ clientId, tokenEndpoint, signal }) => {
        calls.push({ clientId, tokenEndpoint, signal: signal instanceof AbortSignal });
        return server.mintServiceAccountToken();
      },
    });
    await source.getToken(SCOPE);
    await source.getToken(SCOPE, { forceRefresh: true });
    expect(calls).to.deep.equal(Array(2).fill({ clientId: server.entraClient.clientId, tokenEndpoint: server.entraTokenEndpoint, signal: true }));
    const sent = server.requests.at(-1)!.body;
    expect(sent).to.include({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' });
    expect(sent).not.to.have.property('client_secret');
    expect(decodeJwt(String(sent.client_assertion)).iss).to.equal(server.serviceAccountIssuer);
  });

  it("turns the callback's failure into a TokenError with it as the cause, sending nothing", async () => {
    const cause = new Error('vault sealed');
    const before = server.requests.length;
    const source = clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId: 'c', allowInsecure: true, clientAssertion: () => Promise.reject(cause) });
    const error = await failure(source.getToken(SCOPE));
    expect(error.code).to.equal('unknown');
    expect(error.cause).to.equal(cause);
    expect(error.message).to.include('clientAssertion callback failed');
    expect(server.requests.length).to.equal(before);
  });

  it('keeps a refused assertion out of every view of the error', async () => {
    const assertion = await server.mintServiceAccountToken({ subject: 'system:serviceaccount:team:stranger' });
    const source = clientCredentials({
      tokenEndpoint: server.entraTokenEndpoint,
      clientId: server.entraClient.clientId,
      allowInsecure: true,
      clientAssertion: () => assertion,
    });
    const error = await failure(source.getToken(SCOPE));
    expect(error).to.include({ code: 'invalid_request', status: 400 });
    for (const view of views(error)) {
      expect(view).not.to.include(assertion.split('.')[1]);
      expect(view).not.to.include(assertion.split('.')[2]);
    }
  });

  it('refuses clientAssertion beside clientSecret, and a callback that is not a function', () => {
    expect(() =>
      clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId: 'c', allowInsecure: true, clientSecret: 's', clientAssertion: () => 'x' }),
    ).to.throw(TokenError, /give one of clientSecret, privateJwk and clientAssertion/);
    expect(() => clientCredentials({ tokenEndpoint: server.entraTokenEndpoint, clientId: 'c', allowInsecure: true, clientAssertion: 'jwt' as never })).to.throw(
      /clientAssertion/,
    );
  });
});
