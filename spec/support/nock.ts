import { expect } from 'chai';
import nock from 'nock';

/**
 * For a describe block that mocks HTTP with nock: no real connections, and a test fails when a
 * reply it set up went unused (as panva's suites do).
 */
export function useNock(): void {
  before(() => nock.disableNetConnect());
  after(() => nock.enableNetConnect());
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, 'unused nock replies').to.deep.equal([]);
  });
}
