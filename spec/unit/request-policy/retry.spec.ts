import { expect } from 'chai';
import { Readable } from 'node:stream';
import { isReplayable, replacementToken } from '../../../lib/request-policy/retry.js';
import type { GetTokenOptions, TokenSource } from '../../../lib/types.js';

describe('request-policy/retry', () => {
  it('isReplayable: bodies that can be sent again, and streams that cannot', () => {
    const again = [undefined, null, 'text', new URLSearchParams('a=1'), new Blob(['x']), new ArrayBuffer(2), new Uint8Array(2), new FormData(), { json: true }];
    expect(again.map(isReplayable)).to.deep.equal(again.map(() => true));
    const spent = [Readable.from(['x']), new ReadableStream(), (async function* () {})()];
    expect(spent.map(isReplayable)).to.deep.equal([false, false, false]);
  });

  function source(tokens: string[]) {
    const calls: GetTokenOptions[] = [];
    const s: TokenSource = {
      async getToken(_scope, options = {}) {
        calls.push(options);
        return { token: options.forceRefresh ? tokens[1]! : tokens[0]!, expiresAt: Date.now() + 60_000 };
      },
    };
    return { s, calls };
  }

  it('replacementToken: the current token when it is no longer the refused one, without a refresh', async () => {
    const { s, calls } = source(['new', 'forced']);
    const { token, refreshed } = await replacementToken(s, 'scope', 'old', undefined);
    expect([token.token, refreshed]).to.deep.equal(['new', false]);
    expect(calls.filter((c) => c.forceRefresh)).to.have.length(0);
  });

  it('replacementToken: a forced refresh when the current token is the refused one, with the caller signal', async () => {
    const { s, calls } = source(['old', 'forced']);
    const signal = new AbortController().signal;
    const { token, refreshed } = await replacementToken(s, 'scope', 'old', signal);
    expect([token.token, refreshed]).to.deep.equal(['forced', true]);
    expect(calls).to.deep.equal([{ signal }, { forceRefresh: true, signal }]);
  });
});
