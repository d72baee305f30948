import { expect } from 'chai';
import { describeValue, duration, forMessage, identityProviderOption } from '../../lib/options.js';
import { introspection } from '../../lib/inbound/introspection.js';
import { onBehalfOf } from '../../lib/sources/on-behalf-of.js';
import { texas } from '../../lib/sources/texas.js';

describe('options checks', () => {
  it('identityProviderOption: entra_id by default, else one the endpoint takes, else a TypeError listing them', () => {
    expect(identityProviderOption(undefined, 'token')).to.equal('entra_id');
    expect(identityProviderOption('maskinporten', 'token')).to.equal('maskinporten');
    expect(identityProviderOption('tokenx', 'exchange')).to.equal('tokenx');
    expect(identityProviderOption('idporten', 'introspect')).to.equal('idporten');
    expect(() => identityProviderOption('tokenx', 'token')).to.throw(
      TypeError,
      'axios-m2m: expected identityProvider to be one of entra_id, azuread, maskinporten, got "tokenx"',
    );
    expect(() => identityProviderOption('idporten', 'exchange')).to.throw(TypeError, /one of entra_id, azuread, tokenx, got "idporten"/);
    expect(() => identityProviderOption('Entra_ID', 'introspect')).to.throw(TypeError, /one of entra_id, azuread, tokenx, idporten, maskinporten/);
  });

  it('every Texas factory takes its providers from the one list', () => {
    const endpoint = 'http://127.0.0.1:1/api/v1/x';
    expect(() => texas({ endpoint, identityProvider: 'tokenx' as never })).to.throw(TypeError, /identityProvider/);
    expect(() => onBehalfOf({ endpoint, identityProvider: 'maskinporten' as never })).to.throw(TypeError, /identityProvider/);
    expect(introspection({ endpoint, identityProvider: 'idporten' }).identityProvider).to.equal('idporten');
  });

  it('duration: milliseconds, finite, at least the minimum', () => {
    expect(duration('timeout', undefined, 5_000)).to.equal(5_000);
    expect(duration('timeout', 0, 5_000)).to.equal(0);
    expect(() => duration('timeout', -1, 5_000)).to.throw(TypeError, 'axios-m2m: expected timeout to be a number of milliseconds >= 0, got number -1');
    expect(() => duration('timeout', Infinity, 5_000)).to.throw(TypeError);
    expect(() => duration('timeout', '5s', 5_000)).to.throw(TypeError, /got "5s"/);
  });

  it('quotes values shortly in messages', () => {
    expect(describeValue('x'.repeat(50))).to.equal(`"${'x'.repeat(40)}…" (50 characters)`);
    expect(forMessage('s'.repeat(150))).to.equal(`${'s'.repeat(100)}… (150 characters)`);
  });

  it('names a function without its source text (a message must not carry code or the secrets in it), a primitive by its type and value', () => {
    const secret = 'sk-in-closure';
    expect(describeValue(() => secret)).to.equal('a function');
    expect(describeValue(function named() {})).to.equal('a function');
    expect(describeValue(undefined)).to.equal('undefined');
    expect(describeValue(Symbol('s'))).to.equal('symbol Symbol(s)');
    expect(describeValue(1n)).to.equal('bigint 1');
  });
});
