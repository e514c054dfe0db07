/**
 * `npm start --dynamodb-endpoint URL` (or TOCSIN_DYNAMODB_ENDPOINT): the pipeline keeps its
 * state in an external DynamoDB-compatible server (Amazon's DynamoDB Local when Java is
 * present) instead of the embedded dynalite, creating the state table there if missing.
 * The state outlives the pipeline and its data directory: a second pipeline on the same
 * endpoint knows the check is already critical.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ensureBuilt } from '../shim/helpers';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { NotificationLog } from '../support/notifications';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { shimChecks } from '../support/e2e-steps';
import { dynamoClients } from '../../local/dynamodb';
import { LOCAL_NAMES } from '../../local/names';

let dynamo: TestDynamo;
let pipeline: LocalPipeline | undefined;

beforeAll(async () => {
  ensureBuilt();
  dynamo = await startTestDynamo();
}, 120000);

afterAll(async () => {
  await pipeline?.stop();
  await dynamo?.stop();
});

const critical = [{ CheckID: 'disk', Status: 'critical', Output: 'disk full', ModifyIndex: 20 }];

describe(`npm start on an external DynamoDB endpoint (${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('creates the state table there, and its state survives the pipeline and its data directory', async () => {
    pipeline = await startLocalPipeline({ args: ['--dynamodb-endpoint', dynamo.endpoint] });
    expect(pipeline.output()).toContain(`# DynamoDB: ${dynamo.endpoint}`);
    const { client } = dynamoClients(dynamo.endpoint);
    expect((await client.send(new DescribeTableCommand({ TableName: LOCAL_NAMES.stateTable }))).Table?.TableStatus).toBe('ACTIVE');
    client.destroy();

    let notifications = NotificationLog.of(pipeline.dataDir);
    await shimChecks(pipeline, 'checks', [{ CheckID: 'disk', ModifyIndex: 10 }], 10);
    await shimChecks(pipeline, 'checks', critical, 20);
    const first = await notifications.collect(1, 30000, 1000);
    expect(first.map((n) => `${n.alert.check} ${n.alert.to}`)).toEqual(['disk critical']);
    expect(await pipeline.stop()).toBe(0);

    // Another pipeline, a fresh data directory, the endpoint from the environment: the same critical snapshot is old news.
    pipeline = await startLocalPipeline({ env: { TOCSIN_DYNAMODB_ENDPOINT: dynamo.endpoint } });
    notifications = NotificationLog.of(pipeline.dataDir);
    await shimChecks(pipeline, 'checks', critical, 20);
    await shimChecks(pipeline, 'checks', [{ CheckID: 'disk', Status: 'passing', Output: 'ok', ModifyIndex: 30 }], 30);
    const second = await notifications.collect(1, 30000, 1000);
    expect(second.map((n) => `${n.alert.check} ${n.alert.to}`)).toEqual(['disk passing']);
  }, 180000);

  it.each([
    ['https://dynamodb.us-east-1.amazonaws.com', 'is an AWS endpoint'],
    ['http://dynamodb.cn-north-1.amazonaws.com.cn:443/', 'is an AWS endpoint'],
    ['dynamodb.local:8000', 'is not an http(s) URL'],
  ])('refuses %s before starting anything: %s', (endpoint, reason) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tocsin-endpoint-'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'local', 'main.ts'), '--port', '0', '--data-dir', dataDir, '--dynamodb-endpoint', endpoint], { encoding: 'utf8', timeout: 60000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(reason);
    expect(run.stdout).not.toContain('ready');
  });
});
