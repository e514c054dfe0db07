/**
 * Quiet starts: `npm start` and the CLI print no Node process warning (the AWS SDK's Node
 * version notice among them) while the pipeline starts and serves an admin request.
 */
import { ensureCliBuilt, runTocsin } from '../support/built-cli';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';

let pipeline: LocalPipeline | undefined;
afterAll(async () => {
  await pipeline?.stop();
});

it('npm start, then `tocsin silence list` against it: no warning on either', async () => {
  ensureCliBuilt();
  // Not quieted by the test runner's environment: only by tocsin itself.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED' && v !== undefined)) as Record<string, string>;
  pipeline = await startLocalPipeline({ env });
  const adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  const listed = await runTocsin(['silence', 'list'], { ...env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: adminKey });
  expect(listed).toEqual({ code: 0, stdout: 'no silences\n', stderr: '' });
  const printed = `${pipeline.output()}\n${pipeline.logs()}`;
  expect(printed).not.toContain('NodeVersionSupportWarning');
  expect(printed).not.toMatch(/\(node:\d+\) \S*Warning/);
});
