/**
 * The built shim as a child process against a local "API Gateway" that delivers each
 * request to the real ingest handler as an HTTP API event (payload format 2.0): bodies of
 * binary content types base64, text ones as text, as API Gateway does.
 */
import { toApiGatewayResult, toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { BODY_TYPES } from '../../lambdas/domain/protocol';
import { startGateway, type LocalGateway } from '../support/api-gateway';
import { ingestHarness, type Harness } from '../support/ingest-harness';
import { CLUSTER, KEY, checksSnapshot, consulEnv, ensureBuilt, queued, runShim, tempDir } from './helpers';
import * as fs from 'node:fs';
import * as path from 'node:path';

let gateway: LocalGateway;
let harness: Harness;
beforeAll(async () => {
  ensureBuilt();
  harness = ingestHarness({ keys: { [CLUSTER]: KEY } });
  gateway = await startGateway(async (event) => toApiGatewayResult(await harness.handle(toHttpRequest(event)), Date.now()));
});
afterAll(() => gateway.close());

it('a gzipped 2,000-check snapshot goes through API Gateway as base64 and is accepted', async () => {
  const spool = tempDir();
  const r = await runShim({ args: ['--watch', 'checks'], env: consulEnv(`${gateway.url}/v1/ingest`, spool), stdin: checksSnapshot(2000) });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  const event = gateway.events.at(-1)!;
  expect(event.headers['content-type']).toBe(BODY_TYPES.compressed);
  expect(event.headers['content-encoding']).toBe('gzip');
  expect(event.isBase64Encoded).toBe(true);
  expect(queued(spool)).toEqual([]);
  expect(fs.existsSync(path.join(spool, 'rejected')) ? fs.readdirSync(path.join(spool, 'rejected')) : []).toEqual([]);
  expect(harness.logs.some((l) => l.includes('"ingested"') && l.includes('"accepted":2000'))).toBe(true);
});
