import type { TokenRequestOptions } from '../request-policy/token-option.js';

export type { TokenRequestOptions };

declare module 'axios' {
  interface AxiosRequestConfig {
    /**
     * axios-m2m: `{ scope, user }` for this request or instance (`user`: the end user's token for
     * `onBehalfOf()`, winning over the async context, e.g. `{ user: req.headers.authorization }`),
     * `false` to send this request without a
     * token (and with an `Authorization` header of its own, which the token would otherwise
     * replace), or `undefined`/`null` for the default scope. Anything else (a string, `0`, `true`,
     * `{ scope: '' }`) rejects the request with a `TypeError` before anything is sent: a scope is
     * written `{ scope: 'api://…/.default' }`, never as a bare string.
     */
    token?: TokenRequestOptions | false | null | undefined;
  }
}
