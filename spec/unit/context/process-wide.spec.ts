import { expect } from 'chai';
import { processWide } from '../../../lib/context/process-wide.js';

describe('processWide()', () => {
  it('makes the value once per name and version, and hands the same one to every later caller (another copy)', () => {
    let made = 0;
    const first = processWide('spec-process-wide', 1, () => ({ made: ++made }));
    const second = processWide('spec-process-wide', 1, () => ({ made: ++made }));
    expect(second).to.equal(first);
    expect(made).to.equal(1);
    expect(globalThis[Symbol.for('axios-m2m.spec-process-wide@1') as never]).to.equal(first);
  });

  it('keeps another version of the shape apart', () => {
    const v1 = processWide('spec-process-wide-versions', 1, () => ({ v: 1 }));
    const v2 = processWide('spec-process-wide-versions', 2, () => ({ v: 2 }));
    expect(v1).to.deep.equal({ v: 1 });
    expect(v2).to.deep.equal({ v: 2 });
  });

  it('hangs the value on globalThis where a walk of its keys does not see it, and nothing can replace it', () => {
    const value = processWide('spec-process-wide-hidden', 1, () => ({}));
    const key = Symbol.for('axios-m2m.spec-process-wide-hidden@1');
    expect(Object.keys(globalThis)).to.not.include(key);
    expect(Object.getOwnPropertyDescriptor(globalThis, key)).to.include({ enumerable: false, writable: false, configurable: false, value });
  });
});
