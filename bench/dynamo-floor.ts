/**
 * Figure 6's floor: what the DynamoDB calls alone allow on this machine. The same load
 * as figure 6 (concurrent senders, each owning one scope of 20 checks, every event one
 * check flipping) where each event makes only the DynamoDB calls `npm start` makes for
 * it, through the same adapters, SDK clients and dynalite worker (local/dynalite-worker.ts),
 * in the same order: the scope read with the check's read (one BatchGetItem), the compare-and-set write with
 * the outbox entry, the storm-grouping counter, then clearing the outbox with the scope's
 * watermark update. No HTTP, no handler, no decision, no message bus.
 *
 * A child process of the bench; prints one JSON line (its CPU time during the load from /proc):
 *   node --import tsx bench/dynamo-floor.ts <seconds> <senders>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoScopeStore, DynamoSubjectStore } from '../lambdas/adapters/dynamo-state-store';
import { DynamoStormGate } from '../lambdas/adapters/dynamo-storm-store';
import type { Alert } from '../lambdas/domain/types';
import { dynamoClients, ensureStateTable, startDynalite } from '../local/dynamodb';
import { LOCAL_NAMES } from '../local/names';
import { cpuSince, procCpu } from './lib/proc-cpu';
import { nowMs, percentile } from './lib/stats';

const CHECKS_PER_SCOPE = 20;
const CLUSTER = 'default';
const LEASE_MS = 30_000;

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const senders = Number(process.argv[3] ?? 16);
  process.removeAllListeners('warning'); // the AWS SDK's Node 20 notice
  const dataDir = mkdtempSync(join(tmpdir(), 'tocsin-dynamo-floor-'));
  const dynalite = await startDynalite(join(dataDir, 'dynamodb'));
  try {
    const { client, doc } = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    const table = LOCAL_NAMES.stateTable;
    await ensureStateTable(client, table);
    const subjects = new DynamoSubjectStore(doc, table);
    const scopes = new DynamoScopeStore(doc, table);
    // As bench/tocsin.bench.yaml: a threshold no run reaches, so every alert is counted and delivered.
    const storm = new DynamoStormGate(doc, table, { windowSeconds: 5, threshold: 10_000 });

    const latencies: number[] = [];
    let events = 0;
    const sender = async (w: number, until: number) => {
      const scope = `consul-checks/load-${w}`;
      const revs = new Map<string, number>();
      for (let n = 0, index = 100; nowMs() < until; n++) {
        const subject = `check/load-node-${w}/load-${w}-c${n % CHECKS_PER_SCOPE}`;
        index++;
        const started = nowMs();
        const alert: Alert = {
          id: `${subject}@${index}`,
          cluster: CLUSTER,
          source: 'consul' as Alert['source'],
          kind: 'check',
          severity: n % 2 === 0 ? 'critical' : 'info',
          state: n % 2 === 0 ? 'firing' : 'resolved',
          node: `load-node-${w}`,
          service: `load-${w}`,
          check: `load-${w}-c${n % CHECKS_PER_SCOPE}`,
          title: `CRITICAL: load-node-${w} / load-${w}`,
          to: n % 2 === 0 ? 'critical' : 'passing',
          at: new Date().toISOString(),
          details: [['ModifyIndex', String(index)], ['Output', `event ${index}`]],
        } as Alert;
        const { records } = await scopes.getScopeWith(CLUSTER, scope, [subject]);
        const rev = records.get(subject)?.rev ?? revs.get(subject);
        const state = { status: alert.to, modifyIndex: index, facts: { node: alert.node, output: `event ${index}` } };
        if (!(await subjects.put(CLUSTER, subject, rev, { state, pending: { entry: { alert }, leaseUntil: Date.now() + LEASE_MS } }))) {
          throw new Error(`${subject}: compare-and-set lost with one writer per subject`);
        }
        revs.set(subject, (rev ?? 0) + 1);
        await storm.admit(CLUSTER, 'oncall', alert, Date.now());
        await Promise.all([
          subjects.clearPending(CLUSTER, subject, alert.id),
          scopes.updateScope(CLUSTER, scope, { watermark: index, addActive: [], removeActive: [] }),
        ]);
        latencies.push(nowMs() - started);
        events++;
      }
    };
    const started = nowMs();
    const cpuBefore = procCpu(process.pid);
    await Promise.all(Array.from({ length: senders }, (_, w) => sender(w, started + seconds * 1000)));
    const elapsed = (nowMs() - started) / 1000;
    const cpu = cpuSince(process.pid, cpuBefore);
    const result = {
      events,
      seconds: elapsed,
      rate: events / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      ...(cpu ? { cpuMainMsPerEvent: cpu.mainMs / events, cpuAllMsPerEvent: cpu.allMs / events } : {}),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    client.destroy();
  } finally {
    await dynalite.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  process.stderr.write(`dynamo-floor: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
