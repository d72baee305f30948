// `npx axios-m2m token <scope>`: gets a token the way the service would (fromEnv) and shows what
// is in it, for debugging in a pod. It never prints the token itself unless asked with --raw.
// bin.ts runs it on the process's arguments, environment and streams; everything else is here,
// callable with stand-ins.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isTokenError, TokenError } from './errors.js';
import { decodeJwt, decodeProtectedHeader } from './http/decode-jwt.js';
import type { CachedTokenSource } from './cache/with-cache.js';
import { chooseFromEnv, type EnvSourceDescription } from './sources/from-env.js';
import { texas } from './sources/texas.js';
import { identityProvidersFor, type IdentityProviderFor } from './types.js';

type TexasIdentityProvider = IdentityProviderFor<'token'>;

const USAGE = `Usage: axios-m2m token <scope> [--identity-provider <provider>] [--resource <uri>] [--json] [--raw]
       axios-m2m --version | --help

Gets a token for <scope> from the source the environment describes, as fromEnv() does, the
first that is set of:
  Texas                  NAIS_TOKEN_ENDPOINT
  NAIS client creds      AZURE_OPENID_CONFIG_TOKEN_ENDPOINT, AZURE_APP_CLIENT_ID, and
                         AZURE_APP_CLIENT_SECRET or AZURE_APP_JWK
  Azure SDK client creds AZURE_TENANT_ID, AZURE_CLIENT_ID, and AZURE_CLIENT_SECRET or
                         AZURE_CLIENT_CERTIFICATE_PATH (a PEM file with key and certificate;
                         AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true sends the chain as x5c)
  Workload identity      AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TENANT_ID
AZURE_AUTHORITY_HOST (default https://login.microsoftonline.com) is the Azure SDK's and workload
identity's authority. On NAIS, workload identity to another tenant uses the pod's token:
  NAIS_TOKEN_ENDPOINT= AZURE_FEDERATED_TOKEN_FILE="$NAIS_SERVICE_ACCOUNT_TOKEN_PATH" \
  AZURE_CLIENT_ID=<app> AZURE_TENANT_ID=<tenant> npx axios-m2m token <scope>
Prints the source, expires_in, and the token's decoded JWT header and claims (not the token).

Options:
  --identity-provider <provider>  entra_id (default) or maskinporten. Maskinporten goes through
                                  Texas (NAIS_TOKEN_ENDPOINT) and takes a space-separated scope
                                  list as one quoted argument
  --resource <uri>                Maskinporten only: the resource indicator (RFC 8707)
  --json                          machine-readable output: one JSON object on stdout; an error
                                  is one JSON object on stderr
  --raw                           also print the token itself (with --json: a "token" field;
                                  else the token alone)
  -v, --version                   the package version
  -h, --help                      this text

Exit codes:
  0  token received (or --help, --version), also when stdout's reader stopped early
  1  the token request failed: refused, unreachable, timed out or a bad answer
  2  usage or configuration error: wrong arguments, or an environment that names no usable source

Examples:
  npx axios-m2m token api://dev-gcp.team.other-api/.default
  npx axios-m2m token 'nav:first/scope nav:second/scope' --identity-provider maskinporten`;

/** How usage errors end, so that every one points to the help. */
const HINT = ' (see axios-m2m --help)';
const PROVIDERS = identityProvidersFor('token');
const OPTIONS = {
  'identity-provider': { type: 'string' },
  resource: { type: 'string' },
  json: { type: 'boolean' },
  raw: { type: 'boolean' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Args {
  scope: string;
  identityProvider: TexasIdentityProvider;
  resource: string | undefined;
  json: boolean;
  raw: boolean;
}

/**
 * Where the token came from, as far as the environment tells (no credentials, endpoint origin and
 * path); `kind` is the source's name in events.
 */
interface SourceDescription extends EnvSourceDescription {
  /** Texas only: the identity provider asked for. */
  identity_provider?: TexasIdentityProvider;
}

/** A wrong command line (exit 2). */
class UsageError extends Error {}

/**
 * Reads the command line. parseArgs runs non-strict, so that an unknown option is reported here in
 * one plain line rather than in Node's parser text.
 */
function parse(argv: string[]): Args | 'help' | 'version' {
  const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const known = OPTIONS[token.name as keyof typeof OPTIONS];
    if (!known) throw new UsageError(`unknown option ${token.rawName}`);
    if (known.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
    if (known.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value`);
  }
  if (values.help) return 'help';
  if (values.version) return 'version';
  const [command, scope, ...rest] = positionals;
  if (command !== 'token') throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
  if (!scope) throw new UsageError('token needs a scope');
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])} (quote a space-separated scope list)`);
  const identityProvider = (values['identity-provider'] ?? 'entra_id') as TexasIdentityProvider;
  if (!PROVIDERS.includes(identityProvider)) {
    throw new UsageError(`--identity-provider must be entra_id or maskinporten, got ${JSON.stringify(identityProvider)}`);
  }
  const maskinporten = identityProvider === 'maskinporten';
  const resource = values.resource as string | undefined;
  if (resource !== undefined && !maskinporten) throw new UsageError('--resource is for --identity-provider maskinporten');
  if (!maskinporten && /\s/.test(scope)) {
    throw new UsageError('Entra ID takes one scope (e.g. api://<cluster>.<namespace>.<app>/.default); a space-separated list is for --identity-provider maskinporten');
  }
  return { scope, identityProvider, resource, json: values.json === true, raw: values.raw === true };
}

/** The source, as fromEnv() picks it; Maskinporten only through Texas. */
function sourceFor(args: Args, env: NodeJS.ProcessEnv): { source: CachedTokenSource; where: SourceDescription } {
  const texasEndpoint = env.NAIS_TOKEN_ENDPOINT;
  if (texasEndpoint) {
    const source = texas({ endpoint: texasEndpoint, identityProvider: args.identityProvider, resource: args.resource });
    return { source, where: { kind: 'texas', identity_provider: args.identityProvider, endpoint: label(texasEndpoint) } };
  }
  if (args.identityProvider === 'maskinporten') {
    throw new TokenError('configuration', 'Maskinporten tokens come from Texas: NAIS_TOKEN_ENDPOINT is not set (the AZURE_* variables are for Entra ID)');
  }
  // Throws, naming what is missing, unless the environment describes a source.
  const { source, description } = chooseFromEnv(env, {});
  return { source, where: description };
}

/** The source in one line of the text output. */
function describe(where: SourceDescription): string {
  switch (where.kind) {
    case 'texas':
      return `Texas, ${where.identity_provider} (${where.endpoint})`;
    case 'workload_identity':
      return `workload identity, token file ${where.token_file} (${where.endpoint})`;
    default:
      return `client credentials, ${where.auth} (${where.endpoint})`;
  }
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

function version(): string {
  // ../package.json from lib/cli.ts and from dist/cli.js alike.
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Where the command writes: the process's stdout and stderr, or stand-ins. */
export interface CliOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Runs `axios-m2m` with `argv` (the arguments after the command's name) and `env`, writing to
 * `io`, and resolves to the exit code; a failure is reported on `io.stderr`, never thrown.
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv, io: CliOutput): Promise<number> {
  // Known before parsing, so that a usage error is JSON too when --json was asked for.
  const json = argv.includes('--json');
  try {
    return await run(argv, env, json, io);
  } catch (error) {
    return report(error, json, io);
  }
}

async function run(argv: string[], env: NodeJS.ProcessEnv, json: boolean, io: CliOutput): Promise<number> {
  const args = parse(argv);
  if (args === 'help' || args === 'version') {
    io.stdout.write(`${args === 'help' ? USAGE : version()}\n`);
    return 0;
  }
  const { source, where } = sourceFor(args, env);
  const token = await source.getToken(args.scope);
  const expiresIn = Math.max(0, Math.round((token.expiresAt - Date.now()) / 1000));
  const decoded = decode(token.token);

  if (json) {
    const output = {
      source: where,
      scope: args.scope,
      resource: args.resource,
      expires_in: expiresIn,
      expires_at: new Date(token.expiresAt).toISOString(),
      format: decoded ? 'jwt' : 'opaque',
      header: decoded?.header,
      claims: decoded?.claims,
      token: args.raw ? token.token : undefined,
    };
    io.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return 0;
  }
  if (args.raw) {
    io.stdout.write(`${token.token}\n`);
    return 0;
  }
  const lines = [`source:     ${describe(where)}`, `scope:      ${args.scope}`];
  if (args.resource !== undefined) lines.push(`resource:   ${args.resource}`);
  lines.push(`expires_in: ${expiresIn} s (at ${new Date(token.expiresAt).toISOString()})`);
  if (decoded) {
    lines.push(`header:     ${JSON.stringify(decoded.header, null, 2).replace(/\n/g, '\n            ')}`);
    lines.push(`claims:     ${JSON.stringify(decoded.claims, null, 2).replace(/\n/g, '\n            ')}`);
  } else {
    lines.push('token:      opaque (not a JWT), nothing to decode; --raw prints it');
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** What a failure is, for the user: its code, one line of message, other fields, and the exit code. */
function outcome(error: unknown): { exit: number; fields: Record<string, unknown> } {
  // One line, and one "axios-m2m:" prefix: the package's TypeErrors carry one already.
  const line = (text: string) => text.replace(/^axios-m2m: /, '').replace(/\s+/g, ' ');
  if (isTokenError(error)) {
    // TokenError's fields never hold a secret, an assertion or a token (errors.ts).
    const { name: _name, message, code, ...details } = error.toJSON();
    return { exit: code === 'configuration' ? 2 : 1, fields: { code, message: line(String(message)), ...details } };
  }
  if (error instanceof UsageError || error instanceof TypeError) {
    return { exit: 2, fields: { code: 'usage', message: `${line(error.message)}${HINT}` } };
  }
  return { exit: 1, fields: { code: 'unexpected', message: `unexpected failure: ${line(String((error as Error)?.message ?? error))}` } };
}

/** One line on stderr (`axios-m2m: <message> [code]`), or one JSON object under --json. */
function report(error: unknown, json: boolean, io: CliOutput): number {
  const { exit, fields } = outcome(error);
  if (json) io.stderr.write(`${JSON.stringify(fields)}\n`);
  else io.stderr.write(`axios-m2m: ${String(fields.message)}${fields.code === 'usage' ? '' : ` [${String(fields.code)}]`}\n`);
  return exit;
}
