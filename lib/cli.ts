#!/usr/bin/env node
// `npx axios-m2m token <scope>`: gets a token the way the service would (fromEnv) and shows what
// is in it, for debugging in a pod. It never prints the token itself unless asked with --raw.
import { parseArgs } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { isTokenError } from './errors.js';
import { fromEnv } from './sources/from-env.js';

const USAGE = `Usage: axios-m2m token <scope> [--json] [--raw]

Gets a token for <scope> from the source the environment describes (as fromEnv() does):
Texas when NAIS_TOKEN_ENDPOINT is set, else client credentials from
AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID and AZURE_APP_CLIENT_SECRET or AZURE_APP_JWK.
Prints the source, expires_in, and the token's decoded JWT header and claims (not the token).

Options:
  --json    machine-readable output (one JSON object)
  --raw     also print the token itself (with --json: a "token" field; else the token alone)
  -h, --help  this text

Exit codes: 0 token received, 1 token request failed, 2 usage or configuration error.
Example: npx axios-m2m token api://dev-gcp.team.other-api/.default`;

/** Where the token came from, as far as the environment tells (no credentials, endpoint origin and path). */
interface SourceDescription {
  kind: 'texas' | 'client_credentials';
  /** How a client credentials source authenticates. */
  auth?: 'client_secret' | 'private_key_jwt';
  endpoint: string;
}

class UsageError extends Error {}

function describeSource(env: NodeJS.ProcessEnv): SourceDescription {
  // Mirrors fromEnv's choice, which has already accepted this environment.
  if (env.NAIS_TOKEN_ENDPOINT) return { kind: 'texas', endpoint: label(env.NAIS_TOKEN_ENDPOINT) };
  return {
    kind: 'client_credentials',
    auth: env.AZURE_APP_CLIENT_SECRET ? 'client_secret' : 'private_key_jwt',
    endpoint: label(env.AZURE_OPENID_CONFIG_TOKEN_ENDPOINT ?? ''),
  };
}

function label(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function decode(token: string): { header: object; claims: object } | undefined {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    return undefined; // not a JWT: Entra ID and Maskinporten may issue opaque tokens
  }
}

function parse(argv: string[]): { scope: string; json: boolean; raw: boolean } | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, raw: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [command, scope, ...rest] = positionals;
  if (command !== 'token') throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
  if (!scope) throw new UsageError('token needs a scope');
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])} (quote a space-separated scope list)`);
  return { scope, json: values.json === true, raw: values.raw === true };
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const source = fromEnv(env);
  const where = describeSource(env);
  const token = await source.getToken(args.scope);
  const expiresIn = Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000));
  const decoded = decode(token.token);

  if (args.json) {
    const output = {
      source: where,
      scope: args.scope,
      expires_in: expiresIn,
      expires_at: new Date(token.expiresAt).toISOString(),
      format: decoded ? 'jwt' : 'opaque',
      header: decoded?.header,
      claims: decoded?.claims,
      token: args.raw ? token.token : undefined,
    };
    process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  }
  if (args.raw) {
    process.stdout.write(`${token.token}\n`);
    return 0;
  }
  const sourceText =
    where.kind === 'texas' ? `Texas (${where.endpoint})` : `client credentials, ${where.auth} (${where.endpoint})`;
  const lines = [
    `source:     ${sourceText}`,
    `scope:      ${args.scope}`,
    `expires_in: ${expiresIn} s (at ${new Date(token.expiresAt).toISOString()})`,
  ];
  if (decoded) {
    lines.push(`header:     ${JSON.stringify(decoded.header, null, 2).replace(/\n/g, '\n            ')}`);
    lines.push(`claims:     ${JSON.stringify(decoded.claims, null, 2).replace(/\n/g, '\n            ')}`);
  } else {
    lines.push('token:      opaque (not a JWT), nothing to decode; --raw prints it');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** One line on stderr: what failed and, for a TokenError, its code. */
function report(error: unknown): number {
  if (isTokenError(error)) {
    process.stderr.write(`axios-m2m: ${error.message} [${error.code}]\n`);
    return error.code === 'configuration' ? 2 : 1;
  }
  if (error instanceof UsageError || error instanceof TypeError) {
    const hint = error instanceof UsageError ? ' (axios-m2m --help)' : '';
    process.stderr.write(`axios-m2m: ${error.message.replace(/\s+/g, ' ')}${hint}\n`);
    return 2;
  }
  process.stderr.write(`axios-m2m: unexpected failure: ${String((error as Error)?.message ?? error).replace(/\s+/g, ' ')}\n`);
  return 1;
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = report(error);
  },
);
