import { expect } from 'chai';
import { fromApp, hasRole, hasScope } from '../../../lib/inbound/authorize.js';

describe('hasRole(), hasScope(), fromApp() (authorize helpers)', () => {
  it('hasRole requires every named role in the roles claim', () => {
    expect(hasRole('reader')({ roles: ['reader', 'writer'] })).to.equal(true);
    expect(hasRole('reader', 'writer')({ roles: ['reader'] })).to.equal(false);
    expect(hasRole('reader')({ roles: 'reader' as never })).to.equal(false); // not an array: not Entra's shape
    expect(hasRole('reader')({})).to.equal(false);
  });

  it('hasScope requires every named scope in scp (Entra ID) or scope (Maskinporten), space-separated', () => {
    expect(hasScope('User.Read')({ scp: 'openid User.Read' })).to.equal(true);
    expect(hasScope('nav:a', 'nav:b')({ scope: 'nav:b nav:a' })).to.equal(true);
    expect(hasScope('User.Read')({ scp: 'User.ReadWrite' })).to.equal(false);
    expect(hasScope('User.Read')({ scp: ['User.Read'] as never })).to.equal(false);
    expect(hasScope('nav:a', 'nav:b')({ scope: 'nav:a' })).to.equal(false); // one granted scope never stands for another
    expect(hasScope('User.Read')({})).to.equal(false);
  });

  it('fromApp allows the named apps by azp_name, else client_id', () => {
    const check = fromApp('dev-gcp:team:frontend', 'dev-gcp:team:batch');
    expect(check({ azp_name: 'dev-gcp:team:frontend' })).to.equal(true);
    expect(check({ client_id: 'dev-gcp:team:batch' })).to.equal(true);
    expect(check({ azp_name: 'dev-gcp:other:frontend', client_id: 'dev-gcp:team:batch' })).to.equal(false); // azp_name decides
    expect(check({ azp: 'dev-gcp:team:frontend' })).to.equal(false);
    expect(check({})).to.equal(false);
  });

  it('refuses to be built without a value, or with one that is not a non-empty string', () => {
    expect(() => hasRole()).to.throw(TypeError, /hasRole\(\) expects one or more non-empty strings/);
    expect(() => hasScope('')).to.throw(TypeError, /hasScope/);
    expect(() => fromApp(42 as unknown as string)).to.throw(TypeError, /fromApp/);
    expect(() => hasRole('reader', '')).to.throw(TypeError, /hasRole/); // one bad value among good ones
  });
});
