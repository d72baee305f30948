// The Stryker mocha runner creates mocha with no test timeout, so a mutant that leaves a promise
// pending would hang until Stryker kills and restarts the whole runner. This root hook gives each
// test the suite's own timeout back, so such a mutant fails its test and the runner carries on.
const { timeout } = require('../../.mocharc.json');

exports.mochaHooks = {
  beforeEach() {
    this.currentTest?.timeout(timeout);
  },
};
