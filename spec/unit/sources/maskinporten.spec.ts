import { expect } from 'chai';
import nock from 'nock';
import { texas } from '../../../lib/sources/texas.js';
import { useNock } from '../../support/nock.js';

// texas({ identityProvider: 'maskinporten', resource, authorizationDetails }): the exact bodies
// Texas gets (docs/protocols/texas.md, "Machine token"), in JSON and as a form.

const ORIGIN = 'http://127.0.0.1:7164';
const PATH = '/api/v1/token';
const ENDPOINT = `${ORIGIN}${PATH}`;
const SCOPES = 'nav:test/api skatteetaten:mva';
const RESOURCE = 'https://api.example.no/';
const DETAILS = [{ type: 'urn:altinn:systemuser', systemuser_org: { authority: 'iso6523-actorid-upis', ID: '0192:991825827' } }];
const answer = { access_token: 'mp-token', expires_in: 119, token_type: 'Bearer' };

function capture(times = 1): { bodies: unknown[]; types: (string | undefined)[] } {
  const bodies: unknown[] = [];
  const types: (string | undefined)[] = [];
  nock(ORIGIN)
    .post(PATH, (body) => (bodies.push(body), true))
    .times(times)
    .reply(function () {
      types.push(this.req.headers['content-type']);
      return [200, answer];
    });
  return { bodies, types };
}

/** The raw form body, to check what a form-encoded request really carries. */
function captureRaw(): string[] {
  const raw: string[] = [];
  nock(ORIGIN)
    .post(PATH, (body) => (raw.push(typeof body === 'string' ? body : new URLSearchParams(body as Record<string, string>).toString()), true))
    .reply(200, answer);
  return raw;
}

const maskinporten = { endpoint: ENDPOINT, identityProvider: 'maskinporten' as const, retries: 0 };

describe("texas({ identityProvider: 'maskinporten' })", () => {
  useNock();

  it('sends the space-separated scopes as target, with resource and authorization_details as an array, in JSON', async () => {
    const { bodies, types } = capture();
    const token = await texas({ ...maskinporten, resource: RESOURCE, authorizationDetails: DETAILS }).getToken(SCOPES);
    expect(token.token).to.equal('mp-token');
    expect(types[0]).to.match(/^application\/json/);
    expect(bodies[0]).to.deep.equal({
      identity_provider: 'maskinporten',
      target: SCOPES,
      resource: RESOURCE,
      authorization_details: DETAILS,
    });
  });

  it('sends authorization_details as a JSON string in a form body', async () => {
    const { bodies, types } = capture();
    await texas({ ...maskinporten, bodyFormat: 'form', resource: RESOURCE, authorizationDetails: DETAILS }).getToken(SCOPES);
    expect(types[0]).to.match(/^application\/x-www-form-urlencoded/);
    expect(bodies[0]).to.deep.equal({
      identity_provider: 'maskinporten',
      target: SCOPES,
      resource: RESOURCE,
      authorization_details: JSON.stringify(DETAILS),
    });
  });

  it('encodes the space-separated target and the details so that a form parser gets them back exactly', async () => {
    const raw = captureRaw();
    await texas({ ...maskinporten, bodyFormat: 'form', authorizationDetails: DETAILS }).getToken(SCOPES);
    const form = new URLSearchParams(raw[0]);
    expect(form.get('target')).to.equal(SCOPES);
    expect(JSON.parse(form.get('authorization_details')!)).to.deep.equal(DETAILS);
    expect(form.has('resource')).to.equal(false);
  });

  it('leaves resource and authorization_details out when not given', async () => {
    const { bodies } = capture();
    await texas(maskinporten).getToken('nav:test/api');
    expect(bodies[0]).to.deep.equal({ identity_provider: 'maskinporten', target: 'nav:test/api' });
  });

  it('sends skip_cache with the same details on a forced refresh', async () => {
    const { bodies } = capture(2);
    const source = texas({ ...maskinporten, resource: RESOURCE, authorizationDetails: DETAILS });
    await source.getToken(SCOPES);
    await source.getToken(SCOPES, { forceRefresh: true });
    expect(bodies[1]).to.deep.equal({
      identity_provider: 'maskinporten',
      target: SCOPES,
      resource: RESOURCE,
      authorization_details: DETAILS,
      skip_cache: true,
    });
  });

  describe('caching', () => {
    it('serves a second call for the same scopes from its cache', async () => {
      const { bodies } = capture();
      const source = texas({ ...maskinporten, resource: RESOURCE });
      await source.getToken(SCOPES);
      expect((await source.getToken(SCOPES)).token).to.equal('mp-token');
      expect(bodies).to.have.length(1);
    });

    it('keeps one entry per scope list', async () => {
      const { bodies } = capture(2);
      const source = texas(maskinporten);
      await source.getToken('nav:a');
      await source.getToken('nav:a nav:b');
      expect(bodies.map((b) => (b as { target: string }).target)).to.deep.equal(['nav:a', 'nav:a nav:b']);
      expect(source.size).to.equal(2);
    });

    it('never shares a token between instances with different resources or details', async () => {
      const { bodies } = capture(3);
      const a = texas({ ...maskinporten, resource: 'https://a.example/' });
      const b = texas({ ...maskinporten, resource: 'https://b.example/' });
      const c = texas({ ...maskinporten, resource: 'https://a.example/', authorizationDetails: DETAILS });
      for (const source of [a, b, c]) await source.getToken(SCOPES);
      expect(bodies.map((body) => (body as { resource: string }).resource)).to.deep.equal(['https://a.example/', 'https://b.example/', 'https://a.example/']);
    });

    it('keeps sending the details it was created with when the caller later changes its array', async () => {
      const { bodies } = capture();
      const details: object[] = [{ type: 'urn:altinn:systemuser' }];
      const source = texas({ ...maskinporten, authorizationDetails: details });
      details.push({ type: 'changed' });
      (details[0] as { type: string }).type = 'changed';
      await source.getToken(SCOPES);
      expect((bodies[0] as { authorization_details: unknown }).authorization_details).to.deep.equal([{ type: 'urn:altinn:systemuser' }]);
    });
  });

  describe('configuration', () => {
    it('refuses resource and authorizationDetails for Entra ID with a TypeError, a mistake in the code', () => {
      expect(() => texas({ endpoint: ENDPOINT, resource: RESOURCE })).to.throw(
        TypeError,
        'axios-m2m: texas(): resource and authorizationDetails are for identityProvider maskinporten',
      );
      expect(() => texas({ endpoint: ENDPOINT, identityProvider: 'entra_id', authorizationDetails: DETAILS })).to.throw(TypeError);
    });

    it('refuses authorizationDetails that are not an array of objects', () => {
      for (const bad of [{ type: 'x' }, ['x'], [null], [[]]]) {
        expect(() => texas({ ...maskinporten, authorizationDetails: bad as unknown as object[] })).to.throw(
          TypeError,
          /^axios-m2m: expected authorizationDetails to be an array of objects, got/,
        );
      }
    });

    it('refuses a scope list with double or trailing spaces, before any request', async () => {
      const source = texas(maskinporten);
      for (const bad of ['nav:a  nav:b', 'nav:a ', ' nav:a', '']) {
        await source.getToken(bad).then(
          () => expect.fail(`expected ${JSON.stringify(bad)} to be refused`),
          (error: unknown) => expect(error).to.be.instanceOf(TypeError),
        );
      }
    });

    it('keeps refusing spaces in an Entra ID scope', async () => {
      await texas({ endpoint: ENDPOINT })
        .getToken('api://a/.default api://b/.default')
        .then(
          () => expect.fail('expected a TypeError'),
          (error: unknown) => expect(error).to.be.instanceOf(TypeError),
        );
    });
  });
});
