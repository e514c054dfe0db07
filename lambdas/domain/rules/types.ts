/**
 * The validated configuration the rules engine runs on (the "runtime config"): what
 * tocsin.yaml says about clusters, channels, rules, grouping and links, without any
 * secret or deployment knob. The CDK app bundles it into the Lambdas; `npm start`
 * passes it in-process. Durations are seconds here.
 */
import type { HeartbeatsSpec } from '../heartbeats';
import type { Severity, Source } from '../types';
import type { TimeInterval } from './time-intervals';

/** One value test. Strings are exact matches. */
export type ValueMatcher =
  | string
  | { equals: string; ignoreCase?: boolean }
  | { glob: string; ignoreCase?: boolean }
  | { regex: string; ignoreCase?: boolean }
  | { not: MatcherSpec };

/** A list means "any of". */
export type MatcherSpec = ValueMatcher | ValueMatcher[];

/**
 * A numeric test (`healthyInstances: { lte: 0 }`, `healthyFraction: { lt: 0.5 }`): a number is
 * `eq`; the bounds given are ANDed (`{ gte: 1, lt: 3 }`); `not` inverts (a missing value then matches).
 */
export type NumericMatcher = number | { eq?: number; lt?: number; lte?: number; gt?: number; gte?: number } | { not: NumericMatcher };

/** Fields a rule (or a silence) can match on; every field present must match (AND). */
export interface MatchSpec {
  source?: MatcherSpec;
  kind?: MatcherSpec;
  cluster?: MatcherSpec;
  node?: MatcherSpec;
  service?: MatcherSpec;
  /** Check id. */
  check?: MatcherSpec;
  checkName?: MatcherSpec;
  /** Current (new) status; same value as `to`. */
  status?: MatcherSpec;
  from?: MatcherSpec;
  to?: MatcherSpec;
  /** The severity the source proposes (before the rule's own `severity`). */
  severity?: MatcherSpec;
  /** Matches when any tag matches. */
  tags?: MatcherSpec;
  nodeMeta?: Record<string, MatcherSpec>;
  serviceMeta?: Record<string, MatcherSpec>;
  /** Event name (Consul event, Serf user event or query). */
  event?: MatcherSpec;
  /** Event payload text. */
  payload?: MatcherSpec;
  /** `true`: the FLAPPING notice of a subject that changes state often (rules/flapping.ts). */
  flapping?: MatcherSpec;
  /** Healthy instances of the alert's service now (consul/service-impact.ts). */
  healthyInstances?: NumericMatcher;
  /** Healthy instances / instances of the alert's service, 0..1. */
  healthyFraction?: NumericMatcher;
}

export const MATCH_FIELDS = [
  'source',
  'kind',
  'cluster',
  'node',
  'service',
  'check',
  'checkName',
  'status',
  'from',
  'to',
  'severity',
  'tags',
  'event',
  'payload',
  'flapping',
] as const;
export type MatchField = (typeof MATCH_FIELDS)[number];
export const META_FIELDS = ['nodeMeta', 'serviceMeta'] as const;
/** Fields matched by numeric comparison (NumericMatcher), not as text. */
export const NUMERIC_FIELDS = ['healthyInstances', 'healthyFraction'] as const;
export type NumericField = (typeof NUMERIC_FIELDS)[number];

export interface RuleSpec {
  name: string;
  match?: MatchSpec;
  severity?: Severity;
  channels?: string[];
  /** Seconds the problem must persist before anyone is notified. */
  for?: number;
  /** Seconds between reminders while still firing; absent: no reminders. */
  repeat?: number;
  /** Send resolved notices (default true). */
  resolved?: boolean;
  /** Matching alerts are delivered nowhere; evaluation stops. */
  suppress?: boolean;
  /** Keep evaluating the following rules after this one matched. */
  continue?: boolean;
  /** Names of `timeIntervals` during which this route is muted. */
  muteTimeIntervals?: string[];
  /** Names of `timeIntervals` outside which this route is muted. */
  activeTimeIntervals?: string[];
  /** Mustache templates of the title and body for this rule's notifications, over the channels' ones. */
  template?: TemplateSpec;
  /** Flap detection for the subjects this rule matches first (rules/flapping.ts); false: off. */
  flapping?: FlapSpec | false;
}

/** When a subject is flapping (tocsin.yaml `flapping:`, per rule or top level; rules/flapping.ts). */
export interface FlapSpec {
  /** Changes within the window that make the subject flapping. */
  changes: number;
  windowSeconds: number;
  /** Seconds without a change after which flapping ends. */
  stableSeconds: number;
}

/**
 * Alertmanager's inhibit_rules: while an alert matching `source` is firing, alerts matching
 * `target` that agree with it on every `equal` field are not delivered (domain/rules/inhibit.ts).
 */
export interface InhibitSpec {
  source: MatchSpec;
  target: MatchSpec;
  /** Match fields (and `nodeMeta.<key>`, `serviceMeta.<key>`) that must be equal; missing on both counts as equal. */
  equal: string[];
}

/**
 * One channel of tocsin.yaml as rules see it: a name (its key) and a kind. What a kind
 * holds beyond `type` is the kind's business (channels/<kind>/index.ts).
 */
export interface ChannelSpec {
  type: string;
  /** Mustache templates of the title and body (channels/templates.ts); a rule's win. */
  template?: TemplateSpec;
}

/** `template: { title, body }` of a channel or a rule: Mustache source, checked at load (channels/templates.ts). */
export interface TemplateSpec {
  title?: string;
  body?: string;
}

export interface GroupingSpec {
  /** Fixed window length in seconds. */
  windowSeconds: number;
  /**
   * Per severity level, notifications at least that severe per (cluster, channel) and window
   * delivered one by one; the rest go into one digest (domain/rules/storm.ts). At most
   * 3 x threshold + 1 messages per channel and window.
   */
  threshold: number;
}

export interface RuntimeConfig {
  clusters: string[];
  channels: Record<string, ChannelSpec>;
  /** Applied when no rule matches. */
  defaults: { channels: string[]; severity?: Severity; resolved: boolean; for?: number; repeat?: number; muteTimeIntervals?: string[]; activeTimeIntervals?: string[] };
  rules: RuleSpec[];
  /** Inhibition rules, in file order. */
  inhibit?: InhibitSpec[];
  /** Named time intervals rules mute by (domain/rules/time-intervals.ts). */
  timeIntervals?: Record<string, TimeInterval[]>;
  grouping: GroupingSpec;
  /** URL template for a link back, e.g. `https://consul.example.com/ui/{cluster}/nodes/{node}`. */
  links?: { alert?: string };
  /** Consul checks (`checks:`); absent: the defaults (consul/first-run.ts). */
  checks?: { firstRunGraceSeconds: number };
  /** Flap detection where no rule says otherwise (rules/flapping.ts); absent: FLAP_DEFAULTS; false: off. */
  flapping?: FlapSpec | false;
  /** Signs of life (domain/heartbeats.ts); absent: HEARTBEAT_DEFAULTS for every cluster. */
  heartbeats?: HeartbeatsSpec;
  /** The alert history (`history:`, README "What is firing"); absent: DEFAULT_HISTORY_RETENTION_DAYS. */
  history?: { retentionDays: number };
}

/** What rules and silences match against: the facts of one alert candidate. */
export interface MatchFacts {
  source: Source;
  kind: string;
  cluster: string;
  node?: string;
  service?: string;
  check?: string;
  checkName?: string;
  status?: string;
  from?: string;
  to?: string;
  severity?: Severity;
  tags?: string[];
  nodeMeta?: Record<string, string>;
  serviceMeta?: Record<string, string>;
  event?: string;
  payload?: string;
  /** 'true' on a FLAPPING notice (and its reminders); absent otherwise. */
  flapping?: string;
  /** The alert's service: instances healthy now, and that share of its instances (consul/service-impact.ts). */
  healthyInstances?: number;
  healthyFraction?: number;
  /**
   * Set (to the incident's subject) on an alert of a node that is down as one incident
   * (consul/node-incident.ts): the built-in inhibit rule folds it into that incident. Not a match field.
   */
  nodeIncident?: string;
}
