/** What a request (or an instance, through `axios.create`) may say about its token. */
export interface TokenRequestOptions {
  /** The scope to get a token for; wins over the instance's and `attachToken`'s. */
  scope?: string;
}

declare module 'axios' {
  interface AxiosRequestConfig {
    /**
     * axios-m2m: `{ scope }` for this request or instance, or `false` to send this request
     * without a token.
     */
    token?: TokenRequestOptions | false;
  }
}
