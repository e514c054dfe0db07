/**
 * The alerts tocsin produces, made the way tocsin makes them: handler inputs built to
 * ../shared/docs/handler-inputs.md (consul-fixtures.ts, serf-fixtures.ts) run through every
 * registered source handler (lambdas/app/sources/index.ts) over an in-memory store, with
 * rules (a default route, no rule) so that each outbox entry carries the facts rules and
 * silences match on. Scenarios walk each source through its transitions: first sightings,
 * problems, recoveries, removals, maintenance, registrations, changes, events.
 */
import { handlerFor, SOURCE_HANDLERS, type SourceContext } from '../../lambdas/app/sources';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { alertFacts } from '../../lambdas/domain/rules/episodes';
import { decideCluster, decideWatcher, HEARTBEAT_DEFAULTS, retireWatcher, type HeartbeatDecision } from '../../lambdas/domain/heartbeats';
import { HEARTBEAT_ENVELOPE } from '../../lambdas/domain/protocol';
import type { OutboxEntry } from '../../lambdas/domain/rules/outbox';
import type { Envelope } from '../../lambdas/domain/types';
import {
  agentService,
  catalogNode,
  catalogServices,
  consulEnvelope,
  expiredTtlCheck,
  healthCheck,
  kvPair,
  nodeMaintenance,
  serfHealth,
  serviceEntry,
  serviceMaintenance,
  userEvent,
} from './consul-fixtures';
import { memberLine, queryEnvelope, serfEnvelope, userEventEnvelope } from './serf-fixtures';
import { StrictMemoryStore } from './strict-fakes';

export interface Corpus {
  /** Every routed outbox entry: the alert and the facts rules match on. */
  entries: OutboxEntry[];
  /** `${source}/${type}` of every envelope that was handled. */
  handled: Set<string>;
}

/** Runs every scenario for `cluster`; fails loudly when a handler refuses an input. */
export async function alertCorpus(cluster = 'prod'): Promise<Corpus> {
  const entries: OutboxEntry[] = [];
  const handled = new Set<string>();
  const store = new StrictMemoryStore();
  let now = Date.parse('2024-05-01T10:00:00Z');
  const rules = compileRules({
    clusters: [cluster],
    channels: { oncall: { type: 'email' } },
    defaults: { channels: ['oncall'], resolved: true },
    rules: [],
    grouping: { windowSeconds: 60, threshold: 1000 },
  });
  const ctx: SourceContext = {
    subjects: store,
    scopes: store,
    publisher: { dispatch: async (entry) => void entries.push(entry) },
    checkPolicy: defaultCheckPolicy,
    rules,
    clock: { nowMs: () => now },
    // Node incidents (README "Node down as one incident"): a catalog that knows no instances.
    nodes: { carried: async (_cluster, nodes) => new Map(nodes.map((n) => [n, []])), serviceHealth: async () => new Map(), putServiceHealth: async () => undefined },
  };
  const iso = () => new Date(now).toISOString();
  const run = async (envelope: Envelope): Promise<void> => {
    now += 10_000;
    const handler = handlerFor(envelope.source, envelope.type);
    if (!handler) throw new Error(`no handler for ${envelope.source}/${envelope.type}`);
    const result = await handler(envelope, ctx);
    if (result.rejected.length > 0 || result.errors.length > 0 || result.unsettled > 0 || result.needFull) {
      throw new Error(`${envelope.source}/${envelope.type} did not take its input: ${JSON.stringify(result)}`);
    }
    handled.add(`${envelope.source}/${envelope.type}`);
  };
  const consul = (type: string, body: unknown, index: number | string, opts: { scope?: string; node?: string } = {}) =>
    run(consulEnvelope(type, body, { cluster, index: String(index), sentAt: iso(), ...opts }));

  // checks: baseline (one already critical), problems, recoveries, removal, maintenance, TTL.
  const web = (status: string, index: number, output = 'HTTP GET http://127.0.0.1:8080/health: 200 OK') =>
    healthCheck({ Node: 'web-1', Status: status, Output: output, ModifyIndex: index, CreateIndex: 10 });
  const db = (status: string, index: number) =>
    healthCheck({ Node: 'db-1', CheckID: 'service:db', Name: "Service 'db' check", ServiceID: 'db', ServiceName: 'db', ServiceTags: ['primary'], Status: status, ModifyIndex: index, CreateIndex: 12, Output: 'dial tcp 127.0.0.1:5432: connect: connection refused' });
  const serf = (node: string, index: number) => serfHealth(node, { ModifyIndex: index, CreateIndex: 5 });
  await consul('checks', [web('passing', 10), db('critical', 12), serf('web-1', 5), serf('db-1', 5)], 100);
  await consul('checks', [web('critical', 110), db('critical', 12), serf('web-1', 5), serf('db-1', 5)], 110);
  await consul('checks', [web('warning', 120), db('passing', 121), serf('web-1', 5), serf('db-1', 5)], 121);
  await consul('checks', [web('passing', 130), db('passing', 121), serf('web-1', 5), serf('db-1', 5)], 130);
  await consul('checks', [web('critical', 140, 'HTTP GET: 503'), serf('web-1', 5), serf('db-1', 5)], 140); // db's check deregistered
  await consul('checks', [serf('web-1', 5), serf('db-1', 5)], 150); // web's check deregistered while critical
  await consul('checks', [web('critical', 160, 'HTTP GET: 503'), serf('web-1', 5), serf('db-1', 5)], 160); // back, still critical
  await consul('checks', [web('critical', 160, 'HTTP GET: 503'), serf('web-1', 5), serf('db-1', 5), nodeMaintenance('web-1', 'kernel upgrade', 170)], 170);
  await consul('checks', [web('passing', 175), serf('web-1', 5), serf('db-1', 5)], 180); // maintenance over, recovered meanwhile
  await consul('checks', [web('passing', 175), serf('web-1', 5), serf('db-1', 5), serviceMaintenance('web-1', 'web', 'web', '', 190)], 190);
  await consul('checks', [web('passing', 175), serf('web-1', 5), serf('db-1', 5)], 200);
  await consul('checks', [web('passing', 175), serf('web-1', 5), serf('db-1', 210), expiredTtlCheck({ Node: 'db-1', ModifyIndex: 210, CreateIndex: 205 })], 210);
  await consul('checks', [web('passing', 175), serfHealth('db-1', { Status: 'critical', Output: 'Agent not live or unreachable', ModifyIndex: 220, CreateIndex: 5 }), serf('web-1', 5)], 220);
  // A check registered without a status, not run yet: its alert is held (first-run.ts).
  const api = (over: Parameters<typeof healthCheck>[0]) => healthCheck({ Node: 'web-1', CheckID: 'service:api', Name: "Service 'api' check", ServiceID: 'api', ServiceName: 'api', Status: 'critical', Output: '', CreateIndex: 230, ModifyIndex: 230, ...over });
  const dbDown = serfHealth('db-1', { Status: 'critical', Output: 'Agent not live or unreachable', ModifyIndex: 220, CreateIndex: 5 });
  await consul('checks', [web('passing', 175), dbDown, serf('web-1', 5), api({})], 230);
  await consul('checks', [web('passing', 175), dbDown, serf('web-1', 5), api({ Output: 'dial tcp: connection refused', ModifyIndex: 231 })], 231);

  // key / keyprefix: baseline, created, changed, deleted, created again.
  await consul('key', kvPair('app/flag', 'on', { ModifyIndex: 300 }), 300, { scope: 'flag' });
  await consul('key', kvPair('app/flag', 'off', { ModifyIndex: 310 }), 310, { scope: 'flag' });
  await consul('key', null, 320, { scope: 'flag' });
  await consul('key', kvPair('app/flag', 'on', { CreateIndex: 330, ModifyIndex: 330 }), 330, { scope: 'flag' });
  await consul('keyprefix', [kvPair('app/a', '1', { ModifyIndex: 340 })], 340, { scope: 'app' });
  await consul('keyprefix', [kvPair('app/a', '1', { ModifyIndex: 340 }), kvPair('app/b', '2', { CreateIndex: 350, ModifyIndex: 350 })], 350, { scope: 'app' });
  await consul('keyprefix', null, 360, { scope: 'app' });

  // services: baseline, registered, tags changed, deregistered, registered again.
  await consul('services', catalogServices({ consul: [], web: ['v1'] }), 400);
  await consul('services', catalogServices({ consul: [], web: ['v1'], db: ['primary'] }), 410);
  await consul('services', catalogServices({ consul: [], web: ['v2'], db: ['primary'] }), 420);
  await consul('services', catalogServices({ consul: [], web: ['v2'] }), 430);
  await consul('services', catalogServices({ consul: [], web: ['v2'], db: ['primary'] }), 440);

  // nodes: baseline, added, updated, removed, added again.
  await consul('nodes', [catalogNode('web-1', { ModifyIndex: 500 })], 500);
  await consul('nodes', [catalogNode('web-1', { ModifyIndex: 500 }), catalogNode('web-2', { Address: '10.0.0.12', CreateIndex: 510, ModifyIndex: 510 })], 510);
  await consul('nodes', [catalogNode('web-1', { ModifyIndex: 500 }), catalogNode('web-2', { Address: '10.0.0.22', CreateIndex: 510, ModifyIndex: 520 })], 520);
  await consul('nodes', [catalogNode('web-1', { ModifyIndex: 500 })], 530);
  await consul('nodes', [catalogNode('web-1', { ModifyIndex: 500 }), catalogNode('web-2', { CreateIndex: 540, ModifyIndex: 540 })], 540);

  // service: baseline, critical, warning, passing, registered, changed, maintenance, deregistered.
  const svc = (body: unknown, index: number) => consul('service', body, index, { scope: 'web' });
  await svc([serviceEntry('web-1', 'web-1a', { index: 600 })], 600);
  await svc([serviceEntry('web-1', 'web-1a', { status: 'critical', index: 610 })], 610);
  await svc([serviceEntry('web-1', 'web-1a', { status: 'warning', index: 620 })], 620);
  await svc([serviceEntry('web-1', 'web-1a', { index: 630 })], 630);
  await svc([serviceEntry('web-1', 'web-1a', { index: 630 }), serviceEntry('web-2', 'web-2a', { index: 640 })], 640);
  await svc([serviceEntry('web-1', 'web-1a', { index: 650, service: { Tags: ['v2'], ModifyIndex: 650 } }), serviceEntry('web-2', 'web-2a', { index: 640 })], 650);
  const inMaintenance = serviceEntry('web-2', 'web-2a', { index: 660 });
  inMaintenance.Checks.push(nodeMaintenance('web-2', 'rack move', 660));
  await svc([serviceEntry('web-1', 'web-1a', { index: 650, service: { Tags: ['v2'], ModifyIndex: 650 } }), inMaintenance], 660);
  await svc([serviceEntry('web-1', 'web-1a', { index: 650, service: { Tags: ['v2'], ModifyIndex: 650 } }), serviceEntry('web-2', 'web-2a', { index: 670 })], 670);
  await svc([serviceEntry('web-2', 'web-2a', { index: 670 })], 680);

  // event: a buffer, then a new event.
  await consul('event', [userEvent(1), userEvent(2, { Name: 'rollback', payload: 'to v41' })], '17950917117329582394');

  // agent_service: baseline, then a change.
  await consul('agent_service', agentService('web-1a'), 0, { node: 'web-1' });
  await consul('agent_service', agentService('web-1a', { Tags: ['v2'], Port: 8081 }), 0, { node: 'web-1' });

  // Serf members: join, update, leave, rejoin, fail, rejoin, leave, reap.
  const member = (type: string, tags: Record<string, string>, reporter = 'serf-b') =>
    run(serfEnvelope({ cluster, type, reporter, body: memberLine('serf-a', '127.0.0.10', tags), sentAt: iso() }));
  await member('member-join', { role: 'web', dc: 'eu' }, 'serf-a');
  await member('member-update', { role: 'web', dc: 'us' });
  await member('member-leave', { role: 'web', dc: 'us' });
  await member('member-join', { role: 'web', dc: 'us' }, 'serf-a');
  await member('member-failed', { role: 'web', dc: 'us' });
  await member('member-join', { role: 'web', dc: 'us' }, 'serf-a');
  await member('member-leave', { role: 'web', dc: 'us' });
  await member('member-reap', { role: 'web', dc: 'us' });

  // Serf user events and queries.
  await run({ ...userEventEnvelope(cluster, 'serf-b', 'deploy', 41, 'v42'), sentAt: iso() });
  await run({ ...queryEnvelope(cluster, 'serf-b', 'uptime', 7), sentAt: iso() });

  // tocsin heartbeats: the envelope is a sign of life only; the alerts are the sweeper's and
  // the report path's decisions (app/heartbeats.ts), walked here through their transitions.
  await run({ v: 1, cluster, source: HEARTBEAT_ENVELOPE.source, type: HEARTBEAT_ENVELOPE.type, node: 'web-1', index: null, sentAt: iso(), body: '', bodyEncoding: 'utf8' });
  const settings = HEARTBEAT_DEFAULTS;
  const signs = { node: 'web-1', seenAt: now - 600_000, reportAt: now - 600_000, via: 'tocsin/heartbeat' };
  const decided = (d: HeartbeatDecision<unknown>): void => {
    if (d.kind === 'write' && d.alert) entries.push({ alert: d.alert, facts: alertFacts(d.alert) });
  };
  const missingWatcher = decideWatcher(undefined, { cluster, revision: 1, nowMs: now, signs, silent: true, settings });
  decided(missingWatcher);
  const missingState = missingWatcher.kind === 'write' ? missingWatcher.state : undefined;
  decided(decideWatcher(missingState, { cluster, revision: 2, nowMs: now, signs: { ...signs, seenAt: now }, silent: false, settings }));
  decided(retireWatcher(missingState, { cluster, node: 'web-1', revision: 2, nowMs: now }));
  const silentCluster = decideCluster(undefined, { cluster, revision: 1, nowMs: now, known: 2, silent: 2, latestSeenAt: now - 600_000, settings });
  decided(silentCluster);
  const silentState = silentCluster.kind === 'write' ? silentCluster.state : undefined;
  decided(decideCluster(silentState, { cluster, revision: 2, nowMs: now, known: 2, silent: 0, latestSeenAt: now, reporter: 'web-1', settings }));
  decided(decideCluster(silentState, { cluster, revision: 2, nowMs: now, known: 0, silent: 0, settings }));

  const missing = Object.keys(SOURCE_HANDLERS).filter((k) => !handled.has(k));
  if (missing.length > 0) throw new Error(`the corpus has no input for ${missing.join(', ')}`);
  return { entries, handled };
}
