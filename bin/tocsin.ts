#!/usr/bin/env node
/**
 * tocsin CDK app. Offline-friendly: no lookups, env-agnostic unless the CLI
 * provides CDK_DEFAULT_ACCOUNT/REGION (i.e. credentials are configured).
 * Configuration: tocsin.yaml (or -c tocsin:config=<file>, or $TOCSIN_CONFIG); see lib/config.ts.
 */
import { App } from 'aws-cdk-lib';
import { ConfigFileError } from '../lib/config';
import { applyNagPacks } from '../lib/nag';
import { TocsinStack } from '../lib/tocsin-stack';

// The CLI always sets CDK_DEFAULT_REGION (us-east-1 when nothing is configured) but sets
// CDK_DEFAULT_ACCOUNT only when it found credentials: bind the stack to an environment
// only when both are known, otherwise synthesize an env-agnostic template.
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;

const app = new App();
try {
  new TocsinStack(app, 'Tocsin', {
    env: account && region ? { account, region } : undefined,
  });
} catch (e) {
  if (e instanceof ConfigFileError) {
    console.error(`tocsin: ${e.message}`);
    process.exit(1);
  }
  throw e;
}
applyNagPacks(app);
app.synth();
