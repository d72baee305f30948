import { expect } from 'chai';
import { types } from 'node:util';
import { ownError } from '../../../lib/core/own-error.js';
import { TokenError } from '../../../lib/errors.js';

const SCOPE = 'api://dev-gcp.team.api/.default';

describe('ownError()', () => {
  it('copies a TokenError: a new, native error with the same code, message, details, cause and stack', () => {
    const cause = new Error('socket hang up');
    const original = new TokenError('invalid_client', 'token request failed: 401 invalid_client', { status: 401, scope: SCOPE, cause });
    const copy = ownError(original, SCOPE) as TokenError;
    expect(copy).to.not.equal(original);
    expect(copy).to.be.instanceOf(TokenError);
    expect(types.isNativeError(copy)).to.equal(true);
    expect(copy).to.include({ code: 'invalid_client', message: original.message, status: 401, scope: SCOPE, cause });
    expect(copy.stack).to.equal(original.stack);
  });

  it('gives each caller its own copy: a field set on one reaches neither the original nor another copy', () => {
    const original = new TokenError('timeout', 'timed out', { scope: SCOPE });
    const [one, two] = [ownError(original, SCOPE) as TokenError & { seen?: boolean }, ownError(original, SCOPE) as TokenError & { seen?: boolean }];
    one.seen = true;
    one.stack = 'changed';
    expect(two.seen).to.equal(undefined);
    expect((original as { seen?: boolean }).seen).to.equal(undefined);
    expect(two.stack).to.equal(original.stack);
  });

  it('copies another error into its own class without running the constructor, fields and stack kept', () => {
    let constructed = 0;
    class VaultError extends Error {
      code = 'VAULT_DOWN';
      constructor(message: string) {
        super(message);
        constructed += 1;
        this.name = 'VaultError';
      }
    }
    const original = new VaultError('vault unreachable');
    const copy = ownError(original, SCOPE) as VaultError;
    expect(constructed, 'the constructor ran once, for the original').to.equal(1);
    expect(copy).to.not.equal(original);
    expect(copy).to.be.instanceOf(VaultError);
    expect(copy).to.include({ name: 'VaultError', message: 'vault unreachable', code: 'VAULT_DOWN' });
    expect(copy.stack).to.equal(original.stack);
  });

  it('rebuilds a DOMException (its fields live in internal slots) with its name and message', () => {
    const original = new DOMException('The operation was aborted', 'AbortError');
    const copy = ownError(original, SCOPE) as DOMException;
    expect(copy).to.not.equal(original);
    expect(copy).to.be.instanceOf(DOMException);
    expect(copy).to.include({ name: 'AbortError', message: 'The operation was aborted' });
    expect(copy.stack).to.equal(original.stack);
  });

  it('wraps an error that cannot be copied in a TokenError unknown, with the original as cause', () => {
    class Guarded extends Error {
      readonly #secret = 'private state';
      override get message(): string {
        return this.#secret;
      }
    }
    const original = new Guarded();
    const copy = ownError(original, SCOPE) as TokenError;
    expect(copy).to.be.instanceOf(TokenError);
    expect(copy.code).to.equal('unknown');
    expect(copy.cause).to.equal(original);
    expect(copy.message).to.include(SCOPE).and.include('cannot be copied');
  });

  it('passes primitives and null as they are (nobody can change them)', () => {
    expect(ownError('a thrown string', SCOPE)).to.equal('a thrown string');
    expect(ownError(42, SCOPE)).to.equal(42);
    expect(ownError(null, SCOPE)).to.equal(null);
    expect(ownError(undefined, SCOPE)).to.equal(undefined);
  });
});
