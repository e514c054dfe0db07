#!/usr/bin/env node
/**
 * `npx tocsin ...` and `npm run tocsin -- ...`: the bundled CLI (bin/cli-build.cjs), built
 * first when it is missing and rebuilt when any source it was made from has changed, so
 * that it starts fast and never runs old code.
 */
'use strict';
const { BUNDLE, build, buildErrorText, staleness } = require('./cli-build.cjs');

const why = staleness();
if (why !== undefined) {
  try {
    build();
  } catch (err) {
    process.stderr.write(`tocsin: the CLI needs a build (${why}), which failed:\n${buildErrorText(err)}\n`);
    process.exit(70);
  }
  process.stderr.write(`tocsin: built the CLI first (${why})\n`);
}
require(BUNDLE).main(process.argv.slice(2));
