import { expect } from 'chai';
import { introspectEndpoint } from '../../../lib/testing/texas-introspect.js';
import { createTexasKeys, type TexasKeys } from '../../../lib/testing/texas-keys.js';
import type { TexasContext, TexasError } from '../../../lib/testing/texas-request.js';

describe('testing/texas-introspect', () => {
  const now = 1_700_000_000;
  const app = 'dev-gcp:team:app';
  const audiences = { entra_id: 'api://dev-gcp.team.app', tokenx: app, idporten: app, maskinporten: app };
  const revoked = new Set<string>();
  let keys: TexasKeys;
  let context: TexasContext;
  before(async () => {
    keys = await createTexasKeys(
      () => 'http://127.0.0.1:1',
      () => now,
    );
    context = {
      now: () => now * 1000,
      nowSeconds: () => now,
      keys,
      enabled: new Set(['entra_id', 'azuread', 'tokenx', 'maskinporten']),
      app,
      audiences,
      revoked,
    } as unknown as TexasContext;
  });
  const check = (identity_provider: string, token: string) => introspectEndpoint(context, { identity_provider, token });

  it("is active with the claims for this app's token, within 60 s of leeway, and aud unchecked for Maskinporten", async () => {
    const token = await keys.sign('azuread', { sub: 'u', aud: audiences.entra_id }, 600);
    expect(await check('entra_id', token)).to.include({ active: true, sub: 'u', aud: audiences.entra_id });
    expect(await check('azuread', token)).to.include({ active: true });
    expect(await check('entra_id', await keys.sign('entra_id', { aud: audiences.entra_id }, -59))).to.include({ active: true });
    expect(await check('maskinporten', await keys.sign('maskinporten', { aud: 'anything' }, 600))).to.include({ active: true });
  });

  it("answers Texas's reasons", async () => {
    const entra = (claims: Record<string, unknown>, seconds = 600) => keys.sign('entra_id', { aud: audiences.entra_id, ...claims }, seconds);
    const reasons: [string, string, string][] = [
      ['entra_id', 'junk', 'invalid token header: InvalidToken'],
      ['tokenx', await entra({}), 'token can not be validated with this identity provider'],
      ['entra_id', await entra({}, -61), 'invalid token: ExpiredSignature'],
      ['entra_id', await entra({ nbf: now + 61 }), 'invalid token: ImmatureSignature'],
      ['entra_id', await entra({ iss: 'https://elsewhere' }), 'invalid token: InvalidIssuer'],
      ['entra_id', await entra({ aud: 'api://other' }), 'invalid token: InvalidAudience'],
      ['entra_id', await keys.sign('entra_id', {}, 600), 'invalid token: Missing required claim: aud'],
      ['idporten', await entra({}), "identity provider 'idporten' is not enabled"],
    ];
    for (const [provider, token, error] of reasons) expect(await check(provider, token), error).to.deep.equal({ active: false, error });
    const good = await entra({});
    revoked.add(good);
    expect(await check('entra_id', good)).to.deep.equal({ active: false, error: 'token can not be validated with this identity provider' });
  });

  it('refuses a malformed request with 400', async () => {
    const refusal = (body: Record<string, unknown>) =>
      introspectEndpoint(context, body).then(
        () => expect.fail('expected a refusal'),
        (e: TexasError) => e,
      );
    expect((await refusal({ token: 't' })).description).to.match(/missing field `identity_provider`$/);
    expect((await refusal({ identity_provider: 'x', token: 't' })).description).to.match(/unknown variant `x`$/);
    expect(await refusal({ identity_provider: 'entra_id' })).to.include({ status: 400 });
  });
});
