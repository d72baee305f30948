/**
 * Tokens for code that uses `fetch`: `tokenFetch()`.
 * @module axios-m2m/fetch
 */
// `axios-m2m/fetch`: the package's tokens for code that uses `fetch`. It imports neither axios nor
// anything the main entry would not load anyway; sources come from the main entry.
export { tokenFetch, type FetchFunction, type FetchScopeOption, type TokenFetchOptions } from './token-fetch.js';
export type { TokenRequestOptions } from '../request-policy/token-option.js';
export type { AccessToken, GetTokenOptions, TokenSource } from '../types.js';
