/**
 * The composition root: the application wired from its ports, once. The Lambdas
 * (functions/), `npm start` (local/) and the bench hand it their adapters
 * (adapters/aws-ports.ts builds the AWS ones) and take what they serve: the HTTP API
 * (`httpApi`, application-http.ts), the timers worker (`timerWorker`), the sweeper (`sweeper`,
 * application-sweeper.ts, with heartbeats from application-heartbeats.ts), the dispatcher. Ports
 * are read when first needed, so a function that serves only timers never builds the ingest
 * side's adapters.
 */
import { defaultCheckPolicy, type CheckAlertPolicy } from '../domain/consul/check-transitions';
import { compileRules, type RuleSet } from '../domain/rules/evaluate';
import { timeMutesOf } from '../domain/rules/episodes';
import type { RuntimeConfig } from '../domain/rules/types';
import { Dispatcher, type ChannelPublisher } from './dispatcher';
import { Inhibitor } from './inhibition';
import type { AlertReadModel } from './read-model-ports';
import type { DigestStore, FiringSources, MuteLedger, PendingTimers, SilenceReader, SilenceStore, StormGate, TimerQueue } from './delivery-ports';
import { noMetrics, type Clock, type Logger, type Metrics } from './runtime';
import type { ContinuationStore, ScopeStore, SubjectStore } from './ports';
import { continueConsulChecks } from './sources/consul-checks';
import type { ClusterKeys, ConsulTokens } from './credentials';
import type { AlertsProbe, SweepLedger, Watchdog, WatcherStore } from './heartbeat-ports';
import type { ReplayGuard } from './signed-request';
import type { SlackApps } from './slack-ports';
import type { NodeCatalog } from './node-ports';
import type { SourceContext } from './sources';
import { handleTimer, parseTimer, type TimerOutcome, type TimerWorkerDeps } from './timer-worker';
import { METRICS } from '../commons/deployment';

/** Every adapter the application may need. */
export interface ApplicationPorts {
  readonly clock: Clock;
  readonly logger: Logger;
  /** tocsin's own numbers (METRICS); absent: none recorded. */
  readonly metrics?: Metrics;
  readonly subjects: SubjectStore;
  readonly scopes: ScopeStore;
  /** One message per delivery, for its channels (SNS). */
  readonly channels: ChannelPublisher;
  readonly timers: TimerQueue;
  /** Pending timer steps, indexed where the episodes are kept (the sweeper fires lost ones). */
  readonly pendingTimers: PendingTimers;
  /** Firing alerts that can inhibit others (tocsin.yaml `inhibit`), per cluster. */
  readonly firingSources: FiringSources;
  /** The operator's read model: firing alerts and history (absent: not kept). */
  readonly alerts?: AlertReadModel;
  /** Silences, and what they muted (for the sweeper to announce when they end). */
  readonly silences: SilenceStore & SilenceReader & MuteLedger;
  readonly storm: StormGate;
  readonly digests: DigestStore;
  /** The rest of snapshots whose request ran out of time; absent: no time budget (a snapshot is processed in one go). */
  readonly continuations?: ContinuationStore;
  readonly replay: ReplayGuard;
  /** The shim's signing keys, per cluster. */
  readonly clusterKeys: ClusterKeys;
  /** The silence API's keys, per cluster (not the shim's). */
  readonly adminKeys: ClusterKeys;
  /** Per-cluster read-only viewer keys of the alerts API (absent: admin keys only). */
  readonly viewerKeys?: ClusterKeys;
  /** Slack app channels with a signing secret: the buttons' interactivity endpoint (absent: off). */
  readonly slackApps?: SlackApps;
  /** Consul's http watch handler tokens; without them that route is off. */
  readonly consulTokens?: ConsulTokens;
  /** Heartbeats: the watchers' signs of life (application-heartbeats.ts). */
  readonly watchers: WatcherStore;
  /** The sweeper's own record (application-sweeper.ts). */
  readonly sweepLedger: SweepLedger;
  /** Whether the alerts topic answers (the sweeper's health check). */
  readonly alertsProbe: AlertsProbe;
  /** deployment.watchdog.url: pinged after each successful sweep; absent: none configured. */
  readonly watchdog?: Watchdog;
  /** Nodes' service instances and services' health (node incidents, service impact); absent: not kept. */
  readonly nodeCatalog?: NodeCatalog;
}

export interface Application {
  readonly options: ApplicationOptions;
  readonly ports: ApplicationPorts;
  readonly rules: RuleSet;
  /** Where sources' alerts go: rules, silences, storm grouping, then the channels. */
  readonly dispatcher: Dispatcher;
  readonly sources: SourceContext;
  /** The channels publisher every alert message goes through (ports.channels, counted: METRICS.names.alertsPublished). */
  readonly channels: ChannelPublisher;
  readonly metrics: Metrics;
}

/** Counts every message published for its channels, by alert kind (a fixed vocabulary). */
export function countedChannels(channels: ChannelPublisher, metrics: Metrics): ChannelPublisher {
  return {
    async publish(alert) {
      await channels.publish(alert);
      metrics.count(METRICS.names.alertsPublished, 1, { [METRICS.dimensions.kind]: alert.kind });
    },
  };
}

export interface ApplicationOptions {
  config: RuntimeConfig;
  /** Compiled already (the Lambdas compile the bundled config once at init). */
  rules?: RuleSet;
  checkPolicy?: CheckAlertPolicy;
  /** Lease of pending alerts; tests shorten it. */
  leaseMs?: number;
  /** The sweeper fires a pending timer step this long after it was due (default TIMERS_QUEUE.sweepGraceSeconds). */
  timerGraceMs?: number;
  /** Heartbeats count silence from no earlier than this (npm start: its start, so a stopped runner blames no watcher). */
  heartbeatGraceFromMs?: number;
  /**
   * How long a request or a continuation run may start subjects (ms); default
   * PROCESSING_BUDGET.stopStartingAfterMs. Tests and npm start (TOCSIN_LOCAL_PROCESSING_BUDGET_MS) shorten it.
   */
  processingBudgetMs?: number;
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * The core every entry point shares. What each serves is wired from it by `timerWorker`
 * below and `httpApi` (application-http.ts, its own module so that the timers function's
 * bundle does not carry the ingest side: every source and normalizer).
 */
export function createApplication(options: ApplicationOptions, ports: ApplicationPorts): Application {
  const rules = options.rules ?? compileRules(options.config);
  const metrics = ports.metrics ?? noMetrics;
  const channels = once(() => countedChannels(ports.channels, metrics));
  const dispatcher = once(
    () =>
      new Dispatcher({
        rules,
        channels: channels(),
        timers: indexedTimers(ports.pendingTimers, ports.timers),
        clock: ports.clock,
        silences: ports.silences,
        mutes: ports.silences,
        storm: ports.storm,
        logger: ports.logger,
        // Also without inhibit rules: a source recorded under an earlier config is forgotten when it ends.
        inhibitor: new Inhibitor(rules.inhibit, ports.firingSources, ports.subjects, ports.logger),
        ...(ports.alerts ? { readModel: ports.alerts } : {}),
      }),
  );
  const sources = once((): SourceContext => {
    const continuations = ports.continuations;
    return {
      subjects: ports.subjects,
      scopes: ports.scopes,
      publisher: dispatcher(),
      rules,
      checkPolicy: options.checkPolicy ?? defaultCheckPolicy,
      clock: ports.clock,
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      ...(ports.nodeCatalog ? { nodes: ports.nodeCatalog } : {}),
      ...(continuations ? { continuations: { store: continuations, timers: indexedTimers(ports.pendingTimers, ports.timers) } } : {}),
    };
  });
  return {
    options,
    ports,
    rules,
    get dispatcher() {
      return dispatcher();
    },
    get sources() {
      return sources();
    },
    get channels() {
      return channels();
    },
    metrics,
  };
}

/**
 * Scheduling a timer: its step goes into the index of pending steps first, then onto the
 * queue. A failure of either throws (the outbox is kept and retried); a step indexed but
 * not queued is fired by the sweeper.
 */
export function indexedTimers(pending: PendingTimers, queue: TimerQueue): TimerQueue {
  return {
    async schedule(timer) {
      await pending.add(timer);
      await queue.schedule(timer);
    },
  };
}

/** What the timers worker and the sweeper's timers task run with. */
export function timerWorkerDeps(app: Application): TimerWorkerDeps {
  const { ports, options } = app;
  return {
    subjects: ports.subjects,
    publisher: app.dispatcher,
    channels: app.channels,
    // A long timer's next hop: the step is indexed already.
    timers: ports.timers,
    pending: ports.pendingTimers,
    digests: ports.digests,
    grouping: options.config.grouping,
    clock: ports.clock,
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    mutes: timeMutesOf(app.rules),
    rules: app.rules,
    continueSnapshot: (timer, deadlineMs) => continueConsulChecks(app.sources, timer, deadlineMs),
    ...(options.processingBudgetMs !== undefined ? { processingBudgetMs: options.processingBudgetMs } : {}),
  };
}

/**
 * The timers queue's worker: one message (`for`, `repeat`, a storm digest, a snapshot's
 * continuation) at a time. `remainingMs`: what the runtime leaves it (a Lambda's remaining time).
 */
export function timerWorker(app: Application): (body: string, remainingMs?: number) => Promise<TimerOutcome> {
  const deps = timerWorkerDeps(app);
  return (body, remainingMs) => handleTimer(deps, parseTimer(body), remainingMs);
}

/** Ports built on first use, once: `factories` has one function per port. */
export function lazyPorts<T extends object>(factories: { readonly [K in keyof T]-?: () => T[K] }): T {
  const ports = {} as T;
  for (const key of Object.keys(factories) as Array<keyof T>) {
    const make = once(factories[key]);
    Object.defineProperty(ports, key, { get: make, enumerable: true });
  }
  return ports;
}
