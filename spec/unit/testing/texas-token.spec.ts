import { expect } from 'chai';
import type { JWTPayload } from 'jose';
import { tokenEndpoint } from '../../../lib/testing/texas-token.js';
import { type TexasError, type TexasContext } from '../../../lib/testing/texas-request.js';

describe('testing/texas-token', () => {
  const calls: { key: string; skip: boolean; provider: string; claims: JWTPayload }[] = [];
  const context = {
    enabled: new Set(['entra_id', 'azuread', 'maskinporten', 'tokenx']),
    now: () => 0,
    async cached(key: string, skip: boolean, provider: string, claims: () => Promise<JWTPayload>) {
      calls.push({ key, skip, provider, claims: await claims() });
      return { token: 'minted', mintedAt: 0, lifetime: 3599 };
    },
  } as unknown as TexasContext;
  beforeEach(() => (calls.length = 0));

  it("answers from Texas's cache keyed by target, provider, resource and authorization details, with the machine token's claims", async () => {
    const details = [{ type: 't' }];
    expect(await tokenEndpoint(context, { identity_provider: 'azuread', target: 'api://c.ns.app/.default', skip_cache: true })).to.deep.equal({
      access_token: 'minted',
      expires_in: 3599,
      token_type: 'Bearer',
    });
    await tokenEndpoint(context, { identity_provider: 'maskinporten', target: 's', resource: 'https://r/', authorization_details: details });
    expect(calls).to.deep.equal([
      {
        key: JSON.stringify(['api://c.ns.app/.default', 'entra_id', null, null]),
        skip: true,
        provider: 'entra_id',
        claims: { aud: 'api://c.ns.app', azp: 'app', sub: 'app', idp: 'entra_id' },
      },
      {
        key: JSON.stringify(['s', 'maskinporten', 'https://r/', details]),
        skip: false,
        provider: 'maskinporten',
        claims: { aud: 's', azp: 'app', sub: 'app', idp: 'maskinporten' },
      },
    ]);
  });

  it('refuses TokenX, which has no machine tokens, and an Entra scope without /.default', async () => {
    const refusal = (body: Record<string, unknown>) =>
      tokenEndpoint(context, body).then(
        () => expect.fail('expected a refusal'),
        (e: TexasError) => e,
      );
    expect((await refusal({ identity_provider: 'tokenx', target: 'c:ns:app' })).description).to.equal("identity provider 'tokenx' does not support token requests");
    expect((await refusal({ identity_provider: 'entra_id', target: 'api://x' })).description).to.match(/^AADSTS1002012: /);
  });
});
