// Mocha 12 renamed its CLI files to .cjs (lib/cli/options.cjs, run-helpers.cjs, collect-files.cjs);
// the Stryker mocha runner still requires them by their old extension-less names and fails to
// load. Loaded with --require in Stryker's main process, test runners and checkers, this retries
// a failed lookup of a mocha CLI module with the .cjs name before giving up.
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  try {
    return resolve.call(this, request, ...rest);
  } catch (error) {
    if (/[\\/]mocha[\\/]lib[\\/]cli[\\/][\w-]+$/.test(request)) {
      return resolve.call(this, `${request}.cjs`, ...rest);
    }
    throw error;
  }
};
