import { randomUUID } from 'node:crypto';

/** An Entra ID error answer: the OAuth `error`, its AADSTS code, and the support ids (docs/protocols/entra.md). */
export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly text: string,
  ) {
    super(`AADSTS${aadsts}: ${text}`);
  }

  /** The body as Entra ID sends it: the description ends with the trace, correlation id and time. */
  body(): Record<string, unknown> {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d{3}Z$/, 'Z');
    return {
      error: this.error,
      error_description: `${this.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [this.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${this.aadsts}`,
    };
  }
}
