/**
 * local/quiet-aws-sdk.ts: the AWS SDK's Node version notice is off for npm start on Node 20,
 * the supported way (the SDK's own variable), and no other warning is hidden.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { QUIETED_NODE_MAJOR, quietAwsSdkNodeWarning, SDK_NODE_WARNING_ENV } from '../../local/quiet-aws-sdk';

const ROOT = join(__dirname, '..', '..');
const onQuietedNode = Number(process.versions.node.split('.')[0]) === QUIETED_NODE_MAJOR;

/** A node process that creates a real SDK client (the notice comes from its constructor), then emits another warning. */
function stderrOf(opts: { quiet: boolean; env?: Record<string, string> }): Promise<string> {
  const script = `${opts.quiet ? "require('./local/quiet-aws-sdk');" : ''}
    const { SNSClient } = require('@aws-sdk/client-sns');
    new SNSClient({ region: 'us-east-1' });
    process.emitWarning('another warning');`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...opts.env };
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env }, (err, _stdout, stderr) => (err ? reject(err) : resolve(stderr))),
  );
}

describe('the AWS SDK Node version notice', () => {
  (onQuietedNode ? it : it.skip)(`on Node ${QUIETED_NODE_MAJOR}: the SDK prints it, the module silences it and only it`, async () => {
    expect(await stderrOf({ quiet: false })).toContain('NodeVersionSupportWarning');
    const quiet = await stderrOf({ quiet: true });
    expect(quiet).not.toContain('NodeVersionSupportWarning');
    expect(quiet).toContain('Warning: another warning');
  });

  (onQuietedNode ? it : it.skip)("an operator's own setting of the variable stands", async () => {
    expect(await stderrOf({ quiet: true, env: { [SDK_NODE_WARNING_ENV]: 'false' } })).toContain('NodeVersionSupportWarning');
  });

  it(`sets the variable only when it is unset and node is ${QUIETED_NODE_MAJOR}`, () => {
    const env: NodeJS.ProcessEnv = {};
    expect(quietAwsSdkNodeWarning(env, 'v22.11.0')).toBe(false);
    expect(quietAwsSdkNodeWarning(env, 'v18.20.8')).toBe(false);
    expect(env).toEqual({});
    expect(quietAwsSdkNodeWarning(env, 'v20.20.2')).toBe(true);
    expect(env).toEqual({ [SDK_NODE_WARNING_ENV]: 'true' });
    const own: NodeJS.ProcessEnv = { [SDK_NODE_WARNING_ENV]: '' };
    expect(quietAwsSdkNodeWarning(own, 'v20.20.2')).toBe(false);
    expect(own).toEqual({ [SDK_NODE_WARNING_ENV]: '' });
  });
});
