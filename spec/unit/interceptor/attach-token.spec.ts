import axios, { type AxiosAdapter } from 'axios';
import { expect } from 'chai';
import { attachToken } from '../../../lib/interceptor/attach-token.js';
import type { TokenSource } from '../../../lib/types.js';

// Where attachToken refuses to attach, it refuses before anything is sent: a token that may go to
// any host, or two interceptors on one instance, are set-up mistakes to see at start-up.

const source: TokenSource = { getToken: async () => ({ token: 't', expiresAt: Date.now() + 3_600_000 }) };
const options = { source, scope: 'api://x/.default' };
/** The handlers axios keeps for an instance, request and response side. */
const handlers = (api: ReturnType<typeof axios.create>) => {
  const count = (manager: unknown) => (manager as { handlers: unknown[] }).handlers.filter((h) => h !== null).length;
  return [count(api.interceptors.request), count(api.interceptors.response)];
};

describe('attachToken(instance, options)', () => {
  it('refuses what is not an axios instance', () => {
    for (const value of [undefined, null, {}, { interceptors: {} }, { interceptors: { request: {} } }]) {
      expect(() => attachToken(value as never, options)).to.throw(TypeError, 'axios-m2m: expected instance to be an axios instance');
    }
  });

  it('refuses an instance without a baseURL (or with an empty one) unless origins names where the token may go', () => {
    for (const defaults of [{}, { baseURL: '' }]) {
      // The whole message: it names both ways out, and warns off axios's default export.
      expect(() => attachToken(axios.create(defaults), options)).to.throw(
        TypeError,
        /^axios-m2m: attachToken needs to know where the token may go, and this instance has no baseURL: attach to axios\.create\(\{ baseURL: 'https:\/\/api\.example' \}\) \(never axios's default export, which every library shares\), or pass origins: \['https:\/\/api\.example'\]$/,
      );
      expect(() => attachToken(axios.create(defaults), { ...options, origins: [] })).to.throw(TypeError, /no baseURL/);
    }
    const withOrigins = axios.create();
    attachToken(withOrigins, { ...options, origins: ['https://api.example'] })();
    const noDefaults = axios.create({ baseURL: 'https://api.example' });
    Object.defineProperty(noDefaults, 'defaults', { value: undefined });
    expect(() => attachToken(noDefaults, options)).to.throw(TypeError, /no baseURL/);
  });

  it('refuses a second attachment until the first is detached, and detach() removes both interceptors once', () => {
    const api = axios.create({ baseURL: 'https://api.example' });
    const before = handlers(api);
    const detach = attachToken(api, options);
    expect(handlers(api)).to.deep.equal([before[0]! + 1, before[1]! + 1]);
    expect(() => attachToken(api, options)).to.throw(TypeError, 'axios-m2m: attachToken was already called on this instance');
    detach();
    expect(handlers(api)).to.deep.equal(before);
    const again = attachToken(api, options);
    detach(); // a second call of the first detach() leaves the new attachment alone
    expect(handlers(api)).to.deep.equal([before[0]! + 1, before[1]! + 1]);
    expect(() => attachToken(api, options)).to.throw(TypeError, /already called/);
    again();
    expect(handlers(api)).to.deep.equal(before);
  });

  it("takes a request's token: { scope: undefined } as no scope given: the instance's scope, then the scope option", async () => {
    // The token is the scope it was asked for, so the Authorization header names the scope used.
    const echo: TokenSource = { getToken: async (scope) => ({ token: scope, expiresAt: Date.now() + 3_600_000 }) };
    const sent: unknown[] = [];
    const adapter: AxiosAdapter = async (config) => {
      sent.push(config.headers.get('Authorization'));
      return { data: '', status: 200, statusText: 'OK', headers: {}, config };
    };
    const api = axios.create({ baseURL: 'https://api.example', adapter, token: { scope: 'api://instance/.default' } });
    const detach = attachToken(api, { source: echo, scope: 'api://option/.default' });
    const unset: string | undefined = undefined;
    await api.get('/a', { token: { scope: unset } });
    await api.get('/b', { token: { scope: unset, user: undefined } });
    await api.get('/c', { token: { scope: 'api://request/.default' } });
    detach();
    const bare = axios.create({ baseURL: 'https://api.example', adapter });
    attachToken(bare, { source: echo, scope: 'api://option/.default' });
    await bare.get('/d', { token: { scope: unset } });
    expect(sent).to.deep.equal(['Bearer api://instance/.default', 'Bearer api://instance/.default', 'Bearer api://request/.default', 'Bearer api://option/.default']);
  });

  it('takes token: null on the request or the instance as no scope given, and an instance without defaults', async () => {
    const echo: TokenSource = { getToken: async (scope) => ({ token: scope, expiresAt: Date.now() + 3_600_000 }) };
    const sent: unknown[] = [];
    const adapter: AxiosAdapter = async (config) => {
      sent.push(config.headers.get('Authorization'));
      return { data: '', status: 200, statusText: 'OK', headers: {}, config };
    };
    const unset: string | undefined = undefined;
    const bare = axios.create({ baseURL: 'https://api.example', adapter });
    attachToken(bare, { source: echo, scope: 'api://option/.default' });
    await bare.get('/a', { token: null });
    const nullDefault = axios.create({ baseURL: 'https://api.example', adapter, token: null });
    attachToken(nullDefault, { source: echo, scope: 'api://option/.default' });
    await nullDefault.get('/b', { token: { scope: unset } });
    const noDefaults = axios.create({ baseURL: 'https://api.example', adapter });
    Object.defineProperty(noDefaults, 'defaults', { value: undefined });
    attachToken(noDefaults, { source: echo, scope: 'api://option/.default', origins: ['https://api.example'] });
    await noDefaults.get('https://api.example/c', { adapter, token: { scope: unset } });
    expect(sent).to.deep.equal(['Bearer api://option/.default', 'Bearer api://option/.default', 'Bearer api://option/.default']);
  });
});
