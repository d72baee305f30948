import { expect } from 'chai';
import { TokenError } from '../../../lib/errors.js';
import { azureTokenEndpoint, workloadIdentity } from '../../../lib/sources/workload-identity.js';

describe('workloadIdentity()', () => {
  it('builds the token endpoint from AZURE_AUTHORITY_HOST (with or without a trailing slash) and AZURE_TENANT_ID', () => {
    expect(azureTokenEndpoint({ AZURE_TENANT_ID: 't' })).to.equal('https://login.microsoftonline.com/t/oauth2/v2.0/token');
    expect(azureTokenEndpoint({ AZURE_TENANT_ID: 't', AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/' })).to.equal(
      'https://login.microsoftonline.us/t/oauth2/v2.0/token',
    );
    expect(azureTokenEndpoint({ AZURE_AUTHORITY_HOST: 'https://x' })).to.equal(undefined);
  });

  it('names everything missing at creation, in one configuration error', () => {
    const saved = { ...process.env };
    for (const name of ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID']) delete process.env[name];
    try {
      expect(() => workloadIdentity()).to.throw(
        TokenError,
        /^workloadIdentity\(\): the token file \(option tokenFile or AZURE_FEDERATED_TOKEN_FILE\), the client id \(option clientId or AZURE_CLIENT_ID\), the token endpoint \(option tokenEndpoint or AZURE_TENANT_ID\) are not set$/,
      );
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it('takes its defaults from the AKS webhook variables, and does not read the file at creation', () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AZURE_FEDERATED_TOKEN_FILE: '/nonexistent/token', AZURE_CLIENT_ID: 'c', AZURE_TENANT_ID: 't' });
    try {
      expect(workloadIdentity().getToken).to.be.a('function');
    } finally {
      for (const name of ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID']) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});
