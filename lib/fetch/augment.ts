import type { TokenRequestOptions } from '../request-policy/token-option.js';

declare global {
  interface RequestInit {
    /**
     * axios-m2m (`tokenFetch`): `{ scope, user }` for this request (`user`: the end user's token for
     * `onBehalfOf()`, winning over the async context), `false` to send it without a token
     * (with an `Authorization` header of its own, which the token would otherwise replace), or
     * `undefined`/`null` for the wrapper's `scope`. Anything else rejects with a `TypeError`
     * before anything is sent.
     */
    token?: TokenRequestOptions | false | null | undefined;
  }
}

export {};
