import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import nock from 'nock';
import { TokenError } from '../../../lib/errors.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { workloadIdentity } from '../../../lib/sources/workload-identity.js';
import { useNock } from '../../support/nock.js';
import { leaks } from '../../support/secret-forms.js';

// Each attempt of a token request (the retries after a 5xx or a network error included) carries
// its own client assertion: the callback is called again, the key signs again, the token file is
// read again. An assertion is spent once sent.

const ORIGIN = 'https://login.microsoftonline.com';
const PATH = '/tenant-id/oauth2/v2.0/token';
const ENDPOINT = `${ORIGIN}${PATH}`;
const SCOPE = 'api://dev-gcp.team.other-api/.default';
const TOKEN = { token_type: 'Bearer', expires_in: 3599, access_token: 'eyJ.a.b' };

/** A request body as nock hands it to a reply function: the raw text of a form, parsed JSON otherwise. */
function echoed(body: nock.Body): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * A 503, then (with `reset`) a reset connection, then a token; `sent` gets each attempt's
 * client_assertion. Each retry waits its backoff, so the faults are few.
 */
function flakyEndpoint(sent: string[], { reset = false, onFirst }: { reset?: boolean; onFirst?: () => void } = {}) {
  const record = (body: Record<string, string>) => (sent.push(body.client_assertion ?? ''), true);
  const scope = nock(ORIGIN)
    .post(PATH, record)
    .reply(() => {
      onFirst?.();
      return [503, { error: 'temporarily_unavailable' }];
    });
  if (reset) scope.post(PATH, record).replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
  scope.post(PATH, record).reply(200, TOKEN);
}

describe('a client assertion per attempt', () => {
  useNock();

  it('calls the clientAssertion callback once per attempt and sends what each call gave', async () => {
    const sent: string[] = [];
    flakyEndpoint(sent, { reset: true });
    const calls: string[] = [];
    const clientAssertion = () => {
      calls.push(`assertion-${calls.length + 1}`);
      return calls.at(-1)!;
    };
    await clientCredentials({ tokenEndpoint: ENDPOINT, clientId: 'c', clientAssertion, retries: 2 }).getToken(SCOPE);
    expect(calls).to.deep.equal(['assertion-1', 'assertion-2', 'assertion-3']);
    expect(sent).to.deep.equal(calls);
  });

  it('signs a new assertion (new jti) for every attempt with a private JWK', async () => {
    const sent: string[] = [];
    flakyEndpoint(sent);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'k' };
    await clientCredentials({ tokenEndpoint: ENDPOINT, clientId: 'c', privateJwk, retries: 2 }).getToken(SCOPE);
    expect(sent).to.have.length(2);
    expect(decodeJwt(sent[1]!).jti).to.be.a('string').and.not.equal(decodeJwt(sent[0]!).jti);
  });

  it('reads the workload identity token file again for every attempt (a file rotated between attempts sends its new content)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'axios-m2m-per-attempt-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, 'federated-1');
      const sent: string[] = [];
      flakyEndpoint(sent, { onFirst: () => writeFileSync(file, 'federated-2') });
      await workloadIdentity({ tokenFile: file, clientId: 'c', tokenEndpoint: ENDPOINT, retries: 2 }).getToken(SCOPE);
      expect(sent).to.deep.equal(['federated-1', 'federated-2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not retry a failing callback, and no assertion of an earlier attempt shows in the final error', async () => {
    nock(ORIGIN)
      .post(PATH)
      .reply(503, (_uri, body) => ({ error: 'temporarily_unavailable', error_description: `echo ${echoed(body)}` }))
      .post(PATH)
      .reply(503, (_uri, body) => ({ error: 'temporarily_unavailable', error_description: `echo ${echoed(body)}` }));
    const given: string[] = [];
    const clientAssertion = () => {
      given.push(`eyJhbGciOiJSUzI1NiJ9.attempt-${given.length + 1}.signature`);
      return given.at(-1)!;
    };
    const error = (await clientCredentials({ tokenEndpoint: ENDPOINT, clientId: 'c', clientAssertion, retries: 1 })
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error).to.be.instanceOf(TokenError).and.include({ status: 503 });
    expect(given).to.have.length(2);
    expect(leaks(error, given)).to.deep.equal([]);

    let calls = 0;
    const failing = () => {
      calls += 1;
      throw new Error('vault unreachable');
    };
    const failed = (await clientCredentials({ tokenEndpoint: ENDPOINT, clientId: 'c', clientAssertion: failing, retries: 2 })
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(failed).to.be.instanceOf(TokenError).and.include({ code: 'unknown' });
    expect((failed.cause as Error).message).to.equal('vault unreachable');
    expect(calls).to.equal(1);
  });
});
