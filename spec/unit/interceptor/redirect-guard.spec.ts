import type { InternalAxiosRequestConfig } from 'axios';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import sinon from 'sinon';
import { guardRedirects } from '../../../lib/interceptor/redirect-guard.js';

// The hook Node's http adapter calls before each redirect hop, with follow-redirects' options for
// the next hop: the token must not leave the origin it was attached for.

type Hook = (options: Record<string, unknown>, responseDetails: unknown, requestDetails?: unknown) => void;

function guarded(origin: string | undefined, beforeRedirect?: Hook): Hook {
  const config = { headers: {}, beforeRedirect } as unknown as InternalAxiosRequestConfig;
  guardRedirects(config, origin);
  return config.beforeRedirect as unknown as Hook;
}

/**
 * An origin no config has passed with yet: the hooks are kept per origin for the whole process, and
 * a spec that reuses an origin would find the hook an earlier spec (or an earlier run) made.
 */
const freshOrigin = () => `https://${randomUUID()}.example`;

const hop = (target: { href?: string; protocol?: string; host?: string }) => ({
  ...target,
  headers: { Authorization: 'Bearer t', authorization: 'Bearer t', AUTHORIZATION: 'Bearer t', Accept: 'application/json' },
});

describe('guardRedirects(config, origin)', () => {
  it('keeps the token on a hop to the same origin', () => {
    const options = hop({ href: 'https://api.example/next' });
    guarded('https://api.example')(options, {});
    expect(Object.keys(options.headers)).to.deep.equal(['Authorization', 'authorization', 'AUTHORIZATION', 'Accept']);
  });

  it('drops Authorization, in any letter case, on a hop off the origin (a subdomain too), and keeps the other headers', () => {
    for (const href of ['https://evil.api.example/x', 'http://api.example/x', 'https://api.example:8443/x']) {
      const options = hop({ href });
      guarded('https://api.example')(options, {});
      expect(options.headers, href).to.deep.equal({ Accept: 'application/json' });
    }
  });

  it('reads the next hop from protocol and host when there is no href', () => {
    const same = hop({ protocol: 'https:', host: 'api.example' });
    guarded('https://api.example')(same, {});
    expect(same.headers).to.have.property('Authorization');
    const other = hop({ protocol: 'https:', host: 'evil.example' });
    guarded('https://api.example')(other, {});
    expect(other.headers).to.deep.equal({ Accept: 'application/json' });
  });

  it("without an origin from the config, takes the first hop's URL as the origin, and drops the token when there is none", () => {
    const same = hop({ href: 'https://api.example/b' });
    guarded(undefined)(same, {}, { url: 'https://api.example/a' });
    expect(same.headers).to.have.property('Authorization');
    const other = hop({ href: 'https://evil.example/b' });
    guarded(undefined)(other, {}, { url: 'https://api.example/a' });
    expect(other.headers).to.deep.equal({ Accept: 'application/json' });
    const unknown = hop({ href: 'https://api.example/b' });
    guarded(undefined)(unknown, {});
    expect(unknown.headers).to.deep.equal({ Accept: 'application/json' });
    const unparsable = hop({ href: 'not a url' });
    guarded(undefined)(unparsable, {});
    expect(unparsable.headers).to.deep.equal({ Accept: 'application/json' });
  });

  it("calls the caller's own hook after it, with the same arguments, and wraps it once however often the config passes", () => {
    const own = sinon.spy();
    const config = { headers: {}, beforeRedirect: own } as unknown as InternalAxiosRequestConfig;
    guardRedirects(config, 'https://api.example');
    guardRedirects(config, 'https://api.example'); // a retried request passes its config again
    const options = hop({ href: 'https://evil.example/x' });
    const response = { statusCode: 302 };
    const request = { url: 'https://api.example/a' };
    (config.beforeRedirect as unknown as Hook)(options, response, request);
    expect(own.callCount).to.equal(1);
    expect(own.firstCall.args).to.deep.equal([options, response, request]);
    expect(own.firstCall.args[0]).to.have.deep.property('headers', { Accept: 'application/json' }); // the token was gone before
  });

  it('follows the origin of the last pass only, when a config passes again for another origin', () => {
    const own = sinon.spy();
    const config = { headers: {}, beforeRedirect: own } as unknown as InternalAxiosRequestConfig;
    guardRedirects(config, 'https://a.example');
    guardRedirects(config, 'https://b.example');
    const options = hop({ href: 'https://b.example/x' });
    (config.beforeRedirect as unknown as Hook)(options, {});
    expect(options.headers).to.have.property('Authorization');
    expect(own.callCount).to.equal(1);
  });

  it('gives every config for one origin the same hook (no allocation per request), and another origin its own', () => {
    const a = guarded('https://api.example');
    expect(guarded('https://api.example')).to.equal(a);
    const b = guarded('https://other.example');
    expect(b).to.not.equal(a);
    const options = hop({ href: 'https://other.example/x' });
    b(options, {});
    expect(options.headers).to.have.property('Authorization');
  });

  it('makes a hook for an origin never seen before', () => {
    const origin = freshOrigin();
    const hook = guarded(origin);
    const same = hop({ href: `${origin}/next` });
    hook(same, {});
    expect(same.headers).to.have.property('Authorization');
    const other = hop({ href: 'https://evil.example/x' });
    hook(other, {});
    expect(other.headers).to.deep.equal({ Accept: 'application/json' });
  });

  it('keeps the hooks of at most 100 origins, then starts again', () => {
    const kept = freshOrigin();
    let hook = guarded(kept);
    // The first time the kept origin's hook is gone, the others were dropped with it: from there
    // the count is known (the newest origin and the kept one).
    let added = 0;
    while (guarded(kept) === hook && added <= 100) {
      guarded(freshOrigin());
      added++;
    }
    expect(added, 'origins added before the first one was let go').to.be.within(1, 100);
    hook = guarded(kept);
    for (let n = 2; n < 100; n++) guarded(freshOrigin());
    expect(guarded(kept), 'the 100th origin').to.equal(hook);
    guarded(freshOrigin());
    expect(guarded(kept), 'the 101st origin').to.not.equal(hook);
  });
});
