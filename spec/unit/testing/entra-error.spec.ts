import { expect } from 'chai';
import sinon from 'sinon';
import { EntraError } from '../../../lib/testing/entra-error.js';

describe('testing/entra-error', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.UTC(2026, 11, 3, 16, 5, 7, 891), toFake: ['Date'] });
  });
  afterEach(() => clock.restore());

  it('keeps the status, the OAuth error and the AADSTS code, with the message as Entra ID prefixes it', () => {
    const error = new EntraError(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    expect(error).to.be.an.instanceOf(Error);
    expect(error).to.include({ status: 401, error: 'invalid_client', aadsts: 7000215, text: 'Invalid client secret provided.' });
    expect(error.message).to.equal('AADSTS7000215: Invalid client secret provided.');
  });

  it("answers Entra ID's body: the description ends with the trace, correlation id and the time to the second", () => {
    const body = new EntraError(400, 'invalid_scope', 1002012, 'The provided value for scope x is not valid.').body();
    expect(Object.keys(body)).to.deep.equal(['error', 'error_description', 'error_codes', 'timestamp', 'trace_id', 'correlation_id', 'error_uri']);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(body.trace_id).to.match(uuid);
    expect(body.correlation_id).to.match(uuid);
    expect(body.correlation_id).not.to.equal(body.trace_id);
    expect(body).to.include({
      error: 'invalid_scope',
      timestamp: '2026-12-03 16:05:07Z',
      error_uri: 'https://login.microsoftonline.com/error?code=1002012',
    });
    expect(body.error_codes).to.deep.equal([1002012]);
    expect(body.error_description).to.equal(
      `AADSTS1002012: The provided value for scope x is not valid.\r\nTrace ID: ${String(body.trace_id)}\r\nCorrelation ID: ${String(body.correlation_id)}\r\nTimestamp: 2026-12-03 16:05:07Z`,
    );
  });

  it('gives every answer its own trace and correlation ids', () => {
    const error = new EntraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
    const [first, second] = [error.body(), error.body()];
    expect(second.trace_id).not.to.equal(first.trace_id);
    expect(second.correlation_id).not.to.equal(first.correlation_id);
  });
});
