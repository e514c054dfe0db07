/** The real ingest handler over strict in-memory ports (support/strict-fakes.ts), with captured logs. */
import { createIngestHandler } from '../../lambdas/app/ingest-http';
import type { HttpRequest, HttpResponse } from '../../lambdas/app/http';
import type { Clock } from '../../lambdas/app/runtime';
import type { ReplayGuard } from '../../lambdas/app/signed-request';
import type { ConsulTokens } from '../../lambdas/app/credentials';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { jsonLogger } from '../../lambdas/commons/logger';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { StrictMemoryStore, strictSnsClient, type StrictSns } from './strict-fakes';
import { publishUnrouted } from './unrouted-publisher';

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:tocsin-alerts';

export interface Harness {
  handle: (req: HttpRequest) => Promise<HttpResponse>;
  store: StrictMemoryStore;
  sns: StrictSns;
  /** Every log line written so far. */
  logs: string[];
}

export function ingestHarness(opts: { keys: Record<string, string>; clock?: Clock; replay?: ReplayGuard; maxWireBytes?: number; maxInflatedBytes?: number; leaseMs?: number; consulTokens?: ConsulTokens }): Harness {
  const store = new StrictMemoryStore();
  const sns = strictSnsClient();
  const logs: string[] = [];
  const handle = createIngestHandler({
    keys: new StaticClusterKeys(opts.keys),
    replay: opts.replay ?? store,
    sources: {
      subjects: store,
      scopes: store,
      publisher: publishUnrouted(new SnsAlertPublisher(sns.client, TOPIC_ARN)),
      checkPolicy: defaultCheckPolicy,
      clock: opts.clock ?? { nowMs: () => Date.now() },
      ...(opts.leaseMs !== undefined ? { leaseMs: opts.leaseMs } : {}),
    },
    logger: jsonLogger((line) => logs.push(line)),
    ...(opts.maxWireBytes !== undefined ? { maxWireBytes: opts.maxWireBytes } : {}),
    ...(opts.maxInflatedBytes !== undefined ? { maxInflatedBytes: opts.maxInflatedBytes } : {}),
    ...(opts.consulTokens ? { consulTokens: opts.consulTokens } : {}),
  });
  return { handle, store, sns, logs };
}
