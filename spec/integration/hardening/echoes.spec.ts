import { expect } from 'chai';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import nock from 'nock';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withUserToken } from '../../../lib/context/user-token.js';
import { TokenError } from '../../../lib/errors.js';
import { parseEndpoint } from '../../../lib/http/endpoint.js';
import { TokenClient } from '../../../lib/http/token-client.js';
import { clientCredentials } from '../../../lib/sources/client-credentials.js';
import { onBehalfOf } from '../../../lib/sources/on-behalf-of.js';
import { texas } from '../../../lib/sources/texas.js';
import { ENCODINGS, leaks } from '../../support/secret-forms.js';
import { asyncListener } from '../../support/async-listener.js';

// An endpoint that echoes what it was sent, in every form a secret could come back in: the raw
// request body, each re-encoding of the credential it carried, in error_description, error,
// trace_id, correlation_id, a Content-Type and an HTML page. Against every source and body format,
// with secrets full of `~ + / = %`, quotes, backslashes and spaces (an Entra secret has `~`).

const SCOPE = 'api://dev-gcp.team.api/.default';
const CLIENT_SECRET = 'Xy48Q~abc+d/e=f%2Fg h"i\\j~k';
const USER_TOKEN = 'abc+def/ghi==~ %41 "q"\\z';

/** What the echoing endpoint answers with, given the credential it received and the raw body. */
type Echo = (credential: string, raw: string) => { status: number; type?: string; text: string };
const json = (status: number, body: object) => ({ status, text: JSON.stringify(body) });
const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** The echoes tried, each built from the credential the request carried (each assertion is new). */
const ECHOES: [string, Echo][] = [
  ['the raw body in error_description', (_c, raw) => json(400, { error: 'invalid_request', error_description: `AADSTS900144: body was ${raw}` })],
  ['the raw body, lower-case hex, in error_description', (_c, raw) => json(400, { error: 'invalid_request', error_description: `got ${lowerHex(raw)}` })],
  [
    'the raw body, form-decoded, in error_description',
    (_c, raw) => json(400, { error: 'invalid_request', error_description: `got ${decodeURIComponent(raw.replace(/\+/g, ' '))}` }),
  ],
  [
    'the raw body on later lines of error_description (as Entra adds a trace)',
    (_c, raw) => json(401, { error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided.\r\nRequest: ${raw}\r\nTrace ID: x` }),
  ],
  ['the raw body in an HTML page', (_c, raw) => ({ status: 500, type: 'text/html', text: `<html><body><pre>${raw}</pre></body></html>` })],
  ['the raw body as plain text', (_c, raw) => ({ status: 400, type: 'text/plain', text: raw })],
  // At the very end of a description long enough to be cut: redaction must come first.
  ...[300, 1_000, 4_000].map((limit): [string, Echo] => [
    `the credential at the ${limit}-character cut of error_description`,
    (c) => json(400, { error: 'invalid_request', error_description: `${'x'.repeat(limit - 6)}${encodeURIComponent(c)}` }),
  ]),
  ...ENCODINGS.flatMap(([form, encode]): [string, Echo][] => [
    [`the credential ${form} in error_description`, (c) => json(400, { error: 'invalid_client', error_description: `AADSTS7000215: bad ${encode(c)}.` })],
    [`the credential ${form} in trace_id and correlation_id`, (c) => json(401, { error: 'invalid_client', trace_id: encode(c), correlation_id: encode(c) })],
    [`the credential ${form} as the error code`, (c) => json(400, { error: encode(c) })],
    [`the credential ${form} in the Content-Type`, (c) => ({ status: 502, type: `text/${encode(c).replace(/[\s"\\]/g, '')}`, text: 'bad gateway' })],
  ]),
];

interface Target {
  name: string;
  /** Values this source sends that must never show (filled in as requests are made). */
  secrets(): string[];
  get(url: string): Promise<unknown>;
}

describe('an endpoint that echoes what it was sent: no secret in any of its forms', function () {
  this.timeout(60_000);
  let server: Server;
  let base: string;
  let echo: Echo = () => json(500, {});
  let received: string[] = [];
  let jwk: JWK;
  const assertions: string[] = [];

  before(async () => {
    nock.restore(); // a real server: the echo is of the bytes on the wire
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    jwk = { ...(await exportJWK(privateKey)), kid: 'echoes' };
    server = createServer(
      asyncListener(async (req: IncomingMessage, res) => {
        let raw = '';
        for await (const chunk of req) raw += chunk;
        const parsed = String(req.headers['content-type']).startsWith('application/json')
          ? (JSON.parse(raw) as Record<string, string>)
          : Object.fromEntries(new URLSearchParams(raw));
        const credential = parsed.client_secret ?? parsed.client_assertion ?? parsed.user_token ?? '';
        if (parsed.client_assertion) assertions.push(parsed.client_assertion);
        received.push(raw);
        const answer = echo(credential, raw);
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' });
        res.end(answer.text);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    nock.activate();
  });

  const http = { retries: 0 };
  const targets: Target[] = [
    { name: 'texas(), JSON body', secrets: () => [], get: (url) => texas({ endpoint: url, ...http }).getToken(SCOPE) },
    { name: 'texas(), form body', secrets: () => [], get: (url) => texas({ endpoint: url, bodyFormat: 'form', ...http }).getToken(SCOPE) },
    {
      name: 'clientCredentials() with a client secret',
      secrets: () => [CLIENT_SECRET],
      get: (url) => clientCredentials({ tokenEndpoint: url, clientId: 'c', clientSecret: CLIENT_SECRET, ...http }).getToken(SCOPE),
    },
    {
      name: 'clientCredentials() with a private key (private_key_jwt)',
      // This request's assertion (each is new), its signature, and the private key.
      secrets: () => [assertions.at(-1)!, assertions.at(-1)!.split('.')[2]!, jwk.d!],
      get: (url) => clientCredentials({ tokenEndpoint: url, clientId: 'c', privateJwk: jwk, ...http }).getToken(SCOPE),
    },
    {
      name: 'onBehalfOf(), JSON body',
      secrets: () => [USER_TOKEN],
      get: (url) => withUserToken(USER_TOKEN, () => onBehalfOf({ endpoint: url, ...http }).getToken(SCOPE)),
    },
    {
      name: 'onBehalfOf(), form body',
      secrets: () => [USER_TOKEN],
      get: (url) => withUserToken(USER_TOKEN, () => onBehalfOf({ endpoint: url, bodyFormat: 'form', ...http }).getToken(SCOPE)),
    },
    {
      name: 'TokenClient.send() with a secret of its own (as introspection sends a token)',
      secrets: () => [USER_TOKEN],
      get: (url) =>
        new TokenClient(parseEndpoint(url, 'the endpoint'), http).send({
          subject: 'introspection of a token',
          format: 'form',
          secrets: [USER_TOKEN],
          body: { identity_provider: 'entra_id', token: USER_TOKEN },
        }),
    },
  ];

  for (const target of targets) {
    it(`${target.name}: every echo is redacted from message, description, stack, inspect, JSON and causes`, async () => {
      const found: string[] = [];
      for (const [name, make] of ECHOES) {
        received = [];
        echo = make;
        const error = await target.get(`${base}/token`).then(
          () => expect.fail(`${name}: should have failed`),
          (e: unknown) => e,
        );
        expect(error, name).to.be.instanceOf(TokenError);
        expect(received, `${name}: one request`).to.have.length(1);
        for (const form of leaks(error, target.secrets())) found.push(`${name}: ${form}`);
      }
      expect(found, 'secret forms found in errors').to.deep.equal([]);
    });
  }

  it('keeps what is not secret: an echoed body without a secret stays readable', async () => {
    echo = (_c, raw) => json(400, { error: 'invalid_target', error_description: `unknown target in ${raw}`, trace_id: 'trace-1' });
    const error = (await texas({ endpoint: `${base}/token`, ...http })
      .getToken(SCOPE)
      .catch((e: unknown) => e)) as TokenError;
    expect(error.description).to.equal(`unknown target in {"identity_provider":"entra_id","target":"${SCOPE}"}`);
    expect(error.traceId).to.equal('trace-1');
  });
});
