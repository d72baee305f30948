import { expect } from 'chai';
import nock from 'nock';
import sinon from 'sinon';
import { inspect } from 'node:util';
import { isTokenError, type TokenError } from '../../../lib/errors.js';
import { subscribe, type IntrospectionEvent } from '../../../lib/events.js';
import { introspection, type TokenValidator } from '../../../lib/inbound/introspection.js';
import { fakeJwt } from '../../support/fake-jwt.js';
import { startScriptedTexas, type ScriptedTexas } from '../../support/scripted-texas.js';

const NOW = 1_800_000_000_000;
const exp = (secondsFromNow: number) => Math.floor(NOW / 1000) + secondsFromNow;

async function rejection(promise: Promise<unknown>): Promise<TokenError> {
  try {
    await promise;
  } catch (error) {
    expect(isTokenError(error), String(error)).to.equal(true);
    return error as TokenError;
  }
  throw new Error('expected a rejection');
}

describe('introspection(options).validate(token)', () => {
  let texas: ScriptedTexas;
  let clock: sinon.SinonFakeTimers | undefined;
  const active = (claims: Record<string, unknown>) => () => ({ status: 200, body: { active: true, ...claims } });

  before(() => nock.restore()); // real loopback traffic
  after(() => nock.activate());
  beforeEach(async () => {
    texas = await startScriptedTexas(active({ sub: 'alice', exp: exp(3600) }));
  });
  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await texas.close();
  });

  const validator = (options = {}): TokenValidator => introspection({ endpoint: texas.endpoint, ...options });

  it('posts identity_provider and token, and resolves { active: true, claims } without the active field', async () => {
    const token = fakeJwt({ sub: 'alice' });
    const result = await validator({ identityProvider: 'tokenx' }).validate(token);
    expect(result).to.deep.equal({ active: true, claims: { sub: 'alice', exp: exp(3600) } });
    expect(texas.bodies).to.deep.equal([{ identity_provider: 'tokenx', token }]);
    expect(Object.isFrozen(result) && result.active && Object.isFrozen(result.claims)).to.equal(true);
  });

  it('defaults to entra_id and NAIS_TOKEN_INTROSPECTION_ENDPOINT', async () => {
    const token = fakeJwt({ sub: 'default' });
    const saved = process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = texas.endpoint;
    try {
      const v = introspection();
      expect(v).to.include({ identityProvider: 'entra_id', endpoint: texas.endpoint });
      await v.validate(token);
    } finally {
      if (saved === undefined) delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
      else process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = saved;
    }
    expect(texas.bodies[0]).to.deep.equal({ identity_provider: 'entra_id', token });
  });

  it('keeps an active result until exp less expiryMargin, never beyond exp, keyed by a digest', async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(active({ sub: 'alice', exp: exp(60) }));
    const v = validator({ expiryMargin: 5_000 });
    const token = fakeJwt({ exp: exp(60) });
    await v.validate(token);
    await v.validate(token);
    expect(texas.count).to.equal(1);
    clock.tick(54_999);
    await v.validate(token);
    expect(texas.count).to.equal(1);
    clock.tick(1);
    await v.validate(token);
    expect(texas.count).to.equal(2);
    // A margin longer than what is left: not kept at all.
    await v.validate(token);
    expect(texas.count).to.equal(3);
    expect(inspect(v, { depth: Infinity, showHidden: true })).to.not.include(token);
  });

  it('keeps an active result for maxAge at most, however far ahead exp is', async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(active({ sub: 'alice', exp: exp(100 * 365 * 86_400) }));
    const v = validator();
    const token = fakeJwt({ exp: exp(100 * 365 * 86_400) });
    await v.validate(token);
    clock.tick(3_600_000 - 1);
    await v.validate(token);
    expect(texas.count, 'served from memory within the hour').to.equal(1);
    clock.tick(1);
    await v.validate(token);
    expect(texas.count, 'asked again after the default maxAge of one hour').to.equal(2);
    const short = validator({ maxAge: 1_000 });
    await short.validate(token);
    clock.tick(1_000);
    await short.validate(token);
    expect(texas.count).to.equal(4);
    expect(() => validator({ maxAge: 0 })).to.throw(TypeError, /maxAge/);
  });

  it('measures maxAge on the monotonic clock: a wall clock stepped 2 h back or forward neither keeps a result longer nor drops it early', async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(active({ sub: 'alice', exp: exp(100 * 365 * 86_400) }));
    const token = fakeJwt({ exp: exp(100 * 365 * 86_400) });
    const back = validator();
    await back.validate(token);
    clock.setSystemTime(Date.now() - 2 * 3_600_000); // Date.now only: performance.now goes on
    clock.tick(3_600_000 - 1);
    await back.validate(token);
    expect(texas.count, 'served within the hour').to.equal(1);
    clock.tick(1);
    await back.validate(token);
    expect(texas.count, 'asked again after an hour, not after three').to.equal(2);

    const ahead = validator();
    await ahead.validate(token);
    clock.setSystemTime(Date.now() + 2 * 3_600_000);
    await ahead.validate(token);
    expect(texas.count, 'still served right after the step forward').to.equal(3);
    clock.tick(3_600_000 - 1);
    await ahead.validate(token);
    expect(texas.count, 'served until the hour is up').to.equal(3);
    clock.tick(1);
    await ahead.validate(token);
    expect(texas.count, 'asked again after the hour').to.equal(4);
  });

  it('lets go of an active result once its exp less expiryMargin has passed (claims are personal data)', async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(() => active({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })());
    const v = validator({ expiryMargin: 5_000 });
    await v.validate(fakeJwt({ sub: 'left' }));
    clock.tick(55_000); // both clocks: the first result has ended, and the sweep interval is over
    await v.validate(fakeJwt({ sub: 'next' }));
    expect(v.size, 'only the second result is held').to.equal(1);
  });

  it("ends an active result at its token's exp read on the wall clock, as Texas reads it", async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(active({ sub: 'alice', exp: exp(600) }));
    const v = validator({ expiryMargin: 5_000 });
    const token = fakeJwt({ exp: exp(100 * 365 * 86_400) });
    await v.validate(token);
    // The wall clock alone steps to just before exp less the margin, then to it; monotonic time stands still.
    clock.setSystemTime(NOW + 594_999);
    await v.validate(token);
    expect(texas.count, 'served before exp less expiryMargin').to.equal(1);
    clock.setSystemTime(NOW + 595_000);
    await v.validate(token);
    expect(texas.count, 'asked again once exp less expiryMargin is reached on the wall clock').to.equal(2);
  });

  it('sends at most concurrency requests at once; the others wait for a slot, and all are answered', async () => {
    texas.script(active({ sub: 'alice', exp: exp(3600) }));
    const release = texas.hold();
    const v = validator({ concurrency: 3 });
    const results = Promise.all(Array.from({ length: 10 }, (_, i) => v.validate(fakeJwt({ jti: `distinct-${i}` }))));
    for (let i = 0; i < 200 && texas.count < 3; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(texas.count, 'requests received while answers are held').to.equal(3);
    release();
    expect((await results).every((r) => r.active)).to.equal(true);
    expect(texas.count).to.equal(10);
    expect(() => validator({ concurrency: 0 })).to.throw(TypeError, /concurrency/);
  });

  it('keeps nothing for an active token without a numeric exp', async () => {
    texas.script(active({ sub: 'alice' }));
    const v = validator();
    const token = fakeJwt({ sub: 'alice' });
    await v.validate(token);
    await v.validate(token);
    expect(texas.count).to.equal(2);
    expect(v.size).to.equal(0);
  });

  it("keeps an inactive result for inactiveTtl only, with Texas's reason", async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(() => ({ status: 200, body: { active: false, error: 'invalid token: ExpiredSignature' } }));
    const v = validator({ inactiveTtl: 2_000 });
    const old = fakeJwt({ sub: 'old' });
    expect(await v.validate(old)).to.deep.equal({ active: false, reason: 'invalid token: ExpiredSignature' });
    clock.tick(1_999);
    await v.validate(old);
    expect(texas.count).to.equal(1);
    clock.tick(1);
    await v.validate(old);
    expect(texas.count).to.equal(2);
    const none = validator({ inactiveTtl: 0 });
    await none.validate(old);
    await none.validate(old);
    expect(texas.count).to.equal(4);
  });

  it('measures inactiveTtl on the monotonic clock: a wall clock stepped back 2 h does not keep a token refused', async () => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date', 'performance'] });
    texas.script(() => ({ status: 200, body: { active: false, error: 'invalid token: InvalidAudience' } }));
    const v = validator({ inactiveTtl: 5_000 });
    const refused = fakeJwt({ sub: 'refused' });
    await v.validate(refused);
    clock.setSystemTime(Date.now() - 2 * 3_600_000); // Date.now only: performance.now goes on
    clock.tick(4_999);
    await v.validate(refused);
    expect(texas.count, 'still refused from memory before 5 s').to.equal(1);
    clock.tick(1);
    await v.validate(refused);
    expect(texas.count, 'asked again after 5 s, not after 2 h').to.equal(2);
  });

  it('keeps refusals apart: a flood of bad tokens never evicts an active result', async () => {
    const good = fakeJwt({ sub: 'good' });
    texas.script((body) =>
      body.token === good ? active({ sub: 'alice', exp: exp(3600) })() : { status: 200, body: { active: false, error: 'invalid token: InvalidSignature' } },
    );
    const v = validator({ maxEntries: 10 });
    await v.validate(good);
    for (let i = 0; i < 50; i++) await v.validate(fakeJwt({ jti: `junk-${i}` }));
    const calls = texas.count;
    expect(await v.validate(good)).to.deep.include({ active: true });
    expect(texas.count, 'the active result was still held').to.equal(calls);
    expect(v.size, 'one active result and at most maxEntries refusals').to.equal(11);
  });

  it('replaces a reason that shows the token, or part of it, with a generic one', async () => {
    const token = fakeJwt({ sub: 'echo', padding: 'x'.repeat(30) });
    const [, payload] = token.split('.');
    for (const error of [`invalid token: ${token}`, `bad payload ${payload}`, '', 42]) {
      texas.script(() => ({ status: 200, body: { active: false, error } }));
      expect(await validator().validate(token)).to.deep.equal({ active: false, reason: 'token is not active' });
    }
  });

  it('shares one request among 200 concurrent validations of one token', async () => {
    const release = texas.hold();
    const v = validator();
    const token = fakeJwt({ sub: 'busy' });
    const results = Array.from({ length: 200 }, () => v.validate(token));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const all = await Promise.all(results);
    expect(texas.count).to.equal(1);
    expect(new Set(all).size).to.equal(1);
  });

  it('never keeps a failure, and gives each waiter its own error', async () => {
    texas.script(() => ({ status: 500, body: { error: 'server_error', error_description: 'Upstream request failed' } }));
    const v = validator({ retries: 0 });
    const token = fakeJwt({ sub: 't1' });
    const errors = await Promise.all([rejection(v.validate(token)), rejection(v.validate(token))]);
    expect(errors[0]).to.not.equal(errors[1]);
    expect(errors[0]).to.deep.include({ code: 'server_error', status: 500, endpoint: texas.endpoint });
    expect(errors[0].message).to.equal(`introspection of a token (entra_id) failed: 500 server_error: Upstream request failed (${texas.endpoint})`);
    expect(texas.count).to.equal(1);
    texas.script(active({ sub: 'alice', exp: exp(3600) }));
    expect((await v.validate(token)).active).to.equal(true);
  });

  it("rejects on Texas's 400 with its code, the token scrubbed from the description", async () => {
    const token = fakeJwt({ jti: 'secret-token-0123456789' });
    texas.script(() => ({ status: 400, body: { error: 'invalid_request', error_description: `Failed to deserialize: ${token}` } }));
    const error = await rejection(validator().validate(token));
    expect(error).to.deep.include({ code: 'invalid_request', status: 400 });
    expect(JSON.stringify(error) + inspect(error, { depth: Infinity }) + error.message).to.not.include(token);
  });

  for (const [name, body] of [
    ['HTML', '<html>proxy error</html>'],
    ['truncated JSON', '{"active": tr'],
    ['an array', '[]'],
    ['active not a boolean', { active: 'true', sub: 'x' }],
    ['no active field', { sub: 'x' }],
  ] as const) {
    it(`rejects a 200 answer that is ${name} with bad_response`, async () => {
      texas.script(() => ({ status: 200, body }));
      const error = await rejection(validator().validate(fakeJwt({ sub: 'some' })));
      expect(error).to.deep.include({ code: 'bad_response', status: 200 });
      expect(error.message).to.equal(`introspection of a token (entra_id) failed: 200 answer is not {"active": true|false, ...} (${texas.endpoint})`);
    });
  }

  it('ends a hanging request at the deadline with code timeout', async () => {
    texas.script(() => 'hang');
    const error = await rejection(validator({ timeout: 200, attemptTimeout: 10_000 }).validate(fakeJwt({ sub: 'slow' })));
    expect(error.code).to.equal('timeout');
    expect(error.message).to.equal(`introspection of a token (entra_id) timed out after 200 ms (${texas.endpoint})`);
  });

  it('answers a value that is no bearer token as inactive, without a request', async () => {
    const v = validator();
    for (const token of ['', 'has space', 'line\nbreak', 'ünïcode', 'x'.repeat(16 * 1024 + 1)]) {
      expect(await v.validate(token)).to.deep.equal({ active: false, reason: 'malformed token' });
    }
    expect(texas.count).to.equal(0);
  });

  it('holds at most maxEntries results, the oldest written evicted first', async () => {
    const v = validator({ maxEntries: 3 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((sub) => fakeJwt({ sub }));
    for (const token of [a, b, c, d]) await v.validate(token!);
    expect(v.size).to.equal(3);
    await v.validate(a!); // evicted: asked again
    await v.validate(d!); // kept
    expect(texas.count).to.equal(5);
    v.clear();
    expect(v.size).to.equal(0);
  });

  it('publishes one introspection event per validate, with no token or claim in it', async () => {
    const seen: IntrospectionEvent[] = [];
    const stop = subscribe('axios-m2m:introspection:validate', (message) => seen.push(message));
    const [first, second, third] = ['event', 'other', 'third'].map((jti) => fakeJwt({ jti, name: 'alice' }));
    try {
      const v = validator({ identityProvider: 'idporten', retries: 0 });
      await v.validate(first!);
      await v.validate(first!);
      texas.script(() => ({ status: 200, body: { active: false, error: 'invalid token: InvalidAudience' } }));
      await v.validate(second!);
      texas.script(() => ({ status: 503, body: 'down' }));
      await rejection(v.validate(third!));
    } finally {
      stop();
    }
    const base = { identityProvider: 'idporten', endpoint: texas.endpoint };
    expect(seen.map(({ duration, ...rest }) => (expect(duration).to.be.a('number'), rest))).to.deep.equal([
      { ...base, fromCache: false, outcome: 'active' },
      { ...base, fromCache: true, outcome: 'active' },
      { ...base, fromCache: false, outcome: 'inactive' },
      { ...base, fromCache: false, outcome: 'error', code: 'bad_response', status: 503 },
    ]);
    expect(seen[1]!.duration).to.equal(0);
    for (const token of [first!, second!, third!, 'alice']) expect(JSON.stringify(seen)).to.not.include(token);
  });

  it('checks its options at once', () => {
    const endpoint = texas.endpoint;
    expect(() => introspection({ endpoint, identityProvider: 'google' as 'tokenx' })).to.throw(TypeError, /identityProvider/);
    expect(() => introspection({ endpoint, inactiveTtl: 60_001 })).to.throw(TypeError, /inactiveTtl/);
    expect(() => introspection({ endpoint, maxEntries: 0 })).to.throw(TypeError, /maxEntries/);
    expect(() => introspection({ endpoint, timeout: 0 })).to.throw(TypeError, /timeout/);
    expect(() => introspection({ endpoint, bodyFormat: 'xml' as 'json' })).to.throw(TypeError, /bodyFormat/);
    expect(() => introspection({ endpoint: 'http://texas.example/api/v1/introspect' })).to.throw(/plain http/);
  });

  it('rejects a token that is not a string with a TypeError', async () => {
    let error: unknown;
    await validator()
      .validate(42 as unknown as string)
      .catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(TypeError);
  });

  it('throws a configuration TokenError naming NAIS_TOKEN_INTROSPECTION_ENDPOINT when there is no endpoint', () => {
    const saved = process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    delete process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT;
    try {
      expect(() => introspection())
        .to.throw(/NAIS_TOKEN_INTROSPECTION_ENDPOINT/)
        .with.property('code', 'configuration');
    } finally {
      if (saved !== undefined) process.env.NAIS_TOKEN_INTROSPECTION_ENDPOINT = saved;
    }
  });
});
