#!/usr/bin/env node
// The `axios-m2m` bin: cli.ts's main() on this process's arguments, environment and streams.
import { main } from './cli.js';

// A reader that stops early (`axios-m2m token … | head -c1`, a closed pager) makes the next write to
// stdout fail with EPIPE, raised as an 'error' event that would end the process with a stack and
// exit 1, read as "the token request failed". Only a success writes to stdout (the token was
// received, or --help/--version), so the exit code that main() sets stays, and nothing is printed.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') return;
  process.stderr.write(`axios-m2m: could not write the output: ${error.code ?? error.message} [unexpected]\n`);
  process.exitCode = 1;
});
// The same for a closed stderr: the exit code already says what happened.
process.stderr.on('error', () => {});

void main(process.argv.slice(2), process.env, process).then((code) => {
  process.exitCode = code;
});
