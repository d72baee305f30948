import { expect } from 'chai';
import { IDENTITY_PROVIDERS, identityProvidersFor, type IdentityProvider, type IdentityProviderFor } from '../../lib/types.js';

describe('identity providers (one vocabulary)', () => {
  it('lists every provider once, by its Texas name', () => {
    expect(IDENTITY_PROVIDERS).to.deep.equal(['entra_id', 'azuread', 'tokenx', 'idporten', 'maskinporten']);
  });

  it("says which providers each Texas endpoint takes, in the list's order", () => {
    expect(identityProvidersFor('token')).to.deep.equal(['entra_id', 'azuread', 'maskinporten']);
    expect(identityProvidersFor('exchange')).to.deep.equal(['entra_id', 'azuread', 'tokenx']);
    expect(identityProvidersFor('introspect')).to.deep.equal(IDENTITY_PROVIDERS);
    for (const endpoint of ['token', 'exchange', 'introspect'] as const) {
      for (const provider of identityProvidersFor(endpoint)) expect(IDENTITY_PROVIDERS).to.include(provider);
    }
  });

  it('types each endpoint with its own providers', () => {
    const token: IdentityProviderFor<'token'> = 'maskinporten';
    const exchange: IdentityProviderFor<'exchange'> = 'tokenx';
    const any: IdentityProvider = 'idporten';
    // @ts-expect-error: Texas's token endpoint serves no TokenX tokens
    const wrongToken: IdentityProviderFor<'token'> = 'tokenx';
    // @ts-expect-error: Texas exchanges no Maskinporten tokens
    const wrongExchange: IdentityProviderFor<'exchange'> = 'maskinporten';
    expect([token, exchange, any, wrongToken, wrongExchange]).to.have.length(5);
  });
});
