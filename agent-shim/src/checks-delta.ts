/**
 * Deltas for Consul `checks` watches. Consul hands the handler the whole list every
 * time (2,000 checks is ~1 MB); usually one check changed. The shim remembers, per
 * cluster and scope, each check's ModifyIndex as of its last successful send, and sends
 * only what changed since then (Envelope.delta, body per lambdas/domain/consul/check-deltas.ts)
 * plus `base`, the highest ModifyIndex of that last snapshot.
 *
 * Why a lost or refused delta cannot leave the backend wrong:
 * - the state file is replaced only after a 2xx (staged in a temp file while the request is
 *   in flight, renamed into place on success), so every delta is relative to a snapshot
 *   the backend has fully processed; a delta that failed is simply folded into the next;
 * - what gets spooled on failure is the whole list, never a delta;
 * - the backend refuses (409 needFull) a delta whose base it has not reached, e.g. after
 *   its state was lost, and the shim then sends the whole list at once.
 * A whole list also goes out when the state file is missing or unreadable, every
 * `fullEvery` sends and every `fullIntervalS` seconds, and when CONSUL_INDEX is lower than
 * the last send's: the index went backwards (a rebuilt or restored cluster), so equal
 * ModifyIndexes no longer mean "unchanged", and the backend needs the whole list to
 * re-baseline (docs/consul.md, "Indexes that go backwards").
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Envelope } from '../../lambdas/domain/types';
import type { CheckDeltaBody } from '../../lambdas/domain/consul/check-deltas';
import type { Outcome, Transport } from './transport';
import { PROJECTED_FORM, projectCheck } from '../../lambdas/domain/consul/wire-form';
import type { Compacted } from './compact';

/**
 * A checks list as the diff and the next state need it, from one pass over the parsed list.
 * No objects keyed by node or check: at 30,000 checks, building and serialising such a tree
 * cost more than everything else the shim does besides parsing.
 */
export interface ChecksView {
  entries: Array<Record<string, unknown>>;
  /**
   * The (Node, CheckID) sequence as JSON: `["node-a",["check-1","check-2"],"node-b",[...]]`,
   * each node once per run of consecutive entries on it (Consul lists checks by node).
   */
  keys: string;
  /** Each entry's ModifyIndex, in list order. */
  indexes: number[];
  /** Highest ModifyIndex in the list. */
  maxIndex: number;
}

/** What the state file's first line holds. */
export interface DeltaHead {
  v: 2;
  /** Highest ModifyIndex of the last delivered snapshot (what a delta is relative to). */
  base: number;
  /** Deltas sent since the last whole list. */
  deltas: number;
  /** Epoch ms of the last whole list delivered. */
  fullAt: number;
  /** A backend refused a delta (other than 409): only whole lists until the next interval. */
  paused?: boolean;
  /** CONSUL_INDEX of the last delivered snapshot, when it had one. */
  index?: number;
  /** Checks in that snapshot. */
  count: number;
}

/** The last delivered snapshot: its head, its keys (ChecksView.keys) and its ModifyIndexes in that order. */
export interface DeltaState extends DeltaHead {
  keys: string;
  indexes: number[];
}

export interface DeltaPolicy {
  /** A whole list at least every this many sends (1: never a delta). */
  fullEvery: number;
  /** A whole list at least this often. */
  fullIntervalS: number;
}

/**
 * The parsed watch result as a checks list, or undefined when it is not one we can diff
 * (not a non-empty array of entries with a Node, a CheckID and a ModifyIndex). Duplicate
 * keys are not looked for here: see keySet().
 */
export function readChecksView(parsed: unknown): ChecksView | undefined {
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const groups: Array<string | string[]> = [];
  const indexes: number[] = new Array<number>(parsed.length);
  let node: unknown;
  let ids: string[] = [];
  let maxIndex = 0;
  for (let i = 0; i < parsed.length; i++) {
    const e: unknown = parsed[i];
    if (typeof e !== 'object' || e === null) return undefined;
    const { Node: n, CheckID: id, ModifyIndex: index } = e as Record<string, unknown>;
    if (typeof n !== 'string' || typeof id !== 'string' || n === '' || id === '') return undefined;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) return undefined;
    if (n !== node) {
      node = n;
      ids = [];
      groups.push(n, ids);
    }
    ids.push(id);
    indexes[i] = index;
    if (index > maxIndex) maxIndex = index;
  }
  return { entries: parsed as Array<Record<string, unknown>>, keys: JSON.stringify(groups), indexes, maxIndex };
}

/** node -> its check IDs */
type KeySet = Map<string, Set<string>>;

/**
 * The view's keys as a set, or undefined when a (Node, CheckID) appears twice: such a list
 * goes whole, for the backend to judge. Not needed when the keys equal those of a state
 * (which had none twice).
 */
export function keySet(view: ChecksView): KeySet | undefined {
  const set: KeySet = new Map();
  for (const e of view.entries) {
    const node = e.Node as string;
    let ids = set.get(node);
    if (!ids) set.set(node, (ids = new Set()));
    const id = e.CheckID as string;
    if (ids.has(id)) return undefined;
    ids.add(id);
  }
  return set;
}

/** Calls `fn` for each key of a keys JSON value in order; how many, or -1 when it is not one. */
function forEachKey(groups: unknown, fn: (node: string, id: string, i: number) => void): number {
  if (!Array.isArray(groups) || groups.length % 2 !== 0) return -1;
  let i = 0;
  for (let g = 0; g < groups.length; g += 2) {
    const node: unknown = groups[g];
    const ids: unknown = groups[g + 1];
    if (typeof node !== 'string' || !Array.isArray(ids)) return -1;
    for (const id of ids as unknown[]) {
      if (typeof id !== 'string') return -1;
      fn(node, id, i++);
    }
  }
  return i;
}

/**
 * What changed in `view` since `prev`, or undefined when prev's keys cannot be read.
 * `now`: keySet(view), needed only when the keys differ.
 */
export function diffChecks(view: ChecksView, prev: Pick<DeltaState, 'keys' | 'indexes'>, now?: KeySet): CheckDeltaBody | undefined {
  const changed: unknown[] = [];
  if (view.keys === prev.keys) {
    // The same checks in the same order (the usual run): compare the indexes by position.
    const before = prev.indexes;
    const after = view.indexes;
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed.push(view.entries[i]);
    return { changed, removed: [] };
  }
  const current = now ?? keySet(view);
  if (!current) return undefined;
  const before = new Map<string, Map<string, number>>();
  let keys = -1;
  try {
    keys = forEachKey(JSON.parse(prev.keys) as unknown, (node, id, i) => {
      let ids = before.get(node);
      if (!ids) before.set(node, (ids = new Map()));
      ids.set(id, prev.indexes[i] as number);
    });
  } catch {
    /* not JSON */
  }
  if (keys !== prev.indexes.length) return undefined;
  for (let i = 0; i < view.entries.length; i++) {
    const e = view.entries[i] as Record<string, unknown>;
    if (before.get(e.Node as string)?.get(e.CheckID as string) !== view.indexes[i]) changed.push(e);
  }
  const removed: CheckDeltaBody['removed'] = [];
  for (const [node, ids] of before) {
    const still = current.get(node);
    for (const id of ids.keys()) if (!still?.has(id)) removed.push({ Node: node, CheckID: id });
  }
  return { changed, removed };
}

export interface StagedState {
  commit(): void;
  discard(): void;
}

/** A staged temp file older than this belongs to a run that is gone (the time bound is seconds). */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * The state file: three lines of JSON, written by stateText().
 *
 *   {"v":2,"base":...,"deltas":...,"fullAt":...,"count":...}   the head (DeltaHead)
 *   ["node-a",["check-1","check-2"],"node-b",[...]]              the keys (ChecksView.keys)
 *   [10,11,...]                                                 the ModifyIndexes, in key order
 *
 * A run whose checks are those of the last state, in the same order (the usual run), never
 * parses the keys: it compares them as one string and the indexes by position. A file of
 * another version (v1 held a node -> check -> index object) counts as none: one whole list.
 */
export class DeltaStateFile {
  readonly file: string;

  constructor(stateDir: string, cluster: string, scope: string) {
    // cluster and scope match CLUSTER_NAME_PATTERN: safe as file name parts; '+' is in neither.
    this.file = join(stateDir, `checks+${cluster}+${scope}.state`);
  }

  load(): DeltaState | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    // Torn, foreign or older files: undefined, and the next send is a whole list.
    const a = text.indexOf('\n');
    const b = a < 0 ? -1 : text.indexOf('\n', a + 1);
    if (b < 0) return undefined;
    try {
      const head = JSON.parse(text.slice(0, a)) as DeltaHead;
      const indexes = JSON.parse(text.slice(b + 1)) as number[];
      const keys = text.slice(a + 1, b);
      return isHead(head) && keys.startsWith('[') && validIndexes(indexes, head.count) ? { ...head, keys, indexes } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Write-then-rename; no fsync: a lost or torn file only costs one whole list. */
  save(state: DeltaState): void {
    this.stage(state)?.commit();
  }

  /**
   * The write half of save(): `state` in a temp file next to the state file, which only
   * commit() (a rename) turns into the state; discard() drops it. Lets the write happen
   * while a send is in flight and be committed only once it is known to be delivered.
   * Never throws; undefined when the temp file cannot be written.
   */
  stage(state: DeltaState): StagedState | undefined {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      writeFileSync(tmp, stateText(state), { mode: 0o600 });
    } catch {
      /* state is an optimisation: without it the next send is a whole list */
      return undefined;
    }
    const drop = (): void => {
      try {
        unlinkSync(tmp);
      } catch {
        /* gone already */
      }
    };
    return {
      commit: () => {
        try {
          renameSync(tmp, this.file);
        } catch {
          drop();
        }
      },
      discard: drop,
    };
  }

  /**
   * Temp files of runs killed between stage() and commit()/discard() (a staged file lives
   * as long as a request, up to the time bound). Swept on whole-list sends only.
   */
  sweepTemps(nowMs: number): void {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.startsWith(prefix) || !n.endsWith('.tmp') || n === `${prefix}${process.pid}.tmp`) continue;
      try {
        const p = join(dir, n);
        if (nowMs - statSync(p).mtimeMs > STALE_TEMP_MS) unlinkSync(p);
      } catch {
        /* raced with its owner or another sweeper */
      }
    }
  }

  clear(): void {
    try {
      unlinkSync(this.file);
    } catch {
      /* gone already */
    }
  }
}

/** The state file's text (DeltaStateFile). JSON.stringify writes no line breaks of its own. */
export function stateText(state: DeltaState): string {
  const { keys, indexes, ...head } = state;
  return `${JSON.stringify(head)}\n${keys}\n${JSON.stringify(indexes)}\n`;
}

function isHead(h: DeltaHead): boolean {
  return (
    typeof h === 'object' && h !== null && h.v === 2 && Number.isSafeInteger(h.base) && h.base > 0 && Number.isSafeInteger(h.deltas) && Number.isFinite(h.fullAt) &&
    Number.isSafeInteger(h.count) && (h.index === undefined || Number.isSafeInteger(h.index)) && (h.paused === undefined || typeof h.paused === 'boolean')
  );
}

function validIndexes(indexes: unknown, count: number): indexes is number[] {
  if (!Array.isArray(indexes) || indexes.length !== count) return false;
  for (const i of indexes as unknown[]) if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0) return false;
  return true;
}

/** CONSUL_INDEX as a number, when it is one we can compare. */
function watchIndex(envelope: Envelope): number | undefined {
  const n = envelope.index !== null && /^\d{1,15}$/.test(envelope.index) ? Number(envelope.index) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function wantDelta(prev: DeltaHead | undefined, policy: DeltaPolicy, nowMs: number, index?: number): prev is DeltaHead {
  if (!prev || policy.fullEvery <= 1) return false;
  // The watch index went backwards: a new index space, where a diff by ModifyIndex means nothing.
  if (index !== undefined && typeof prev.index === 'number' && index < prev.index) return false;
  if (prev.deltas + 1 >= policy.fullEvery) return false;
  const age = nowMs - prev.fullAt;
  return age >= 0 && age < policy.fullIntervalS * 1000 && !prev.paused;
}

export function deltaEnvelope(full: Envelope, base: number, body: CheckDeltaBody): Envelope {
  return { ...full, body: JSON.stringify(body), bodyEncoding: 'utf8', delta: true, base: String(base) };
}

/**
 * Send a `checks` watch result: as a delta when the state allows, else (or when the
 * backend asks for it) the whole list. Returns the outcome of the last request; on
 * 'retry' or 'held' the caller spools `full` (never the delta).
 */
export async function sendChecks(
  transport: Pick<Transport, 'send'>,
  compact: Compacted,
  deadline: number,
  stateDir: string,
  policy: DeltaPolicy,
  nowMs: number,
): Promise<Outcome> {
  // Diffed on the raw entries (already parsed); only what goes out is projected.
  const full = compact.raw;
  const view = compact.parsed !== undefined ? readChecksView(compact.parsed) : undefined;
  if (!view) return transport.send(compact.whole(), deadline);
  const store = new DeltaStateFile(stateDir, full.cluster, full.scope ?? full.type);
  const prev = store.load();
  // Checks other than the last state's: a key listed twice sends the list whole, without state.
  let now: KeySet | undefined;
  if (prev?.keys !== view.keys) {
    now = keySet(view);
    if (!now) return transport.send(compact.whole(), deadline);
  }
  // The state a delivered send leads to is written to a temp file while the API works on
  // the request (onSent), and renamed into place only once the API has accepted it.
  let staged: StagedState | undefined;
  const stage = (state: DeltaState) => () => {
    staged = store.stage(state);
  };
  const commit = (state: DeltaState): void => {
    if (staged) staged.commit();
    else store.save(state); // answered before onSent ran (or staging failed)
    staged = undefined;
  };
  const discard = (): void => {
    staged?.discard();
    staged = undefined;
  };
  let paused = false;
  const index = watchIndex(full);
  const at = index !== undefined ? { index } : {};
  const snapshot = { count: view.indexes.length, ...at, keys: view.keys, indexes: view.indexes };
  const diff = wantDelta(prev, policy, nowMs, index) ? diffChecks(view, prev as DeltaState, now) : undefined;
  if (prev && diff) {
    const next: DeltaState = { v: 2, base: view.maxIndex, deltas: prev.deltas + 1, fullAt: prev.fullAt, ...snapshot };
    const body = { changed: diff.changed.map(projectCheck), removed: diff.removed };
    const outcome = await transport.send(deltaEnvelope({ ...full, form: PROJECTED_FORM }, prev.base, body), deadline, stage(next));
    if (outcome.kind === 'sent') {
      commit(next);
      return outcome;
    }
    discard();
    if (outcome.kind === 'retry' || outcome.kind === 'held' || outcome.auth) return outcome;
    // 409 needFull: the backend lacks the base; any other refusal: a backend without
    // deltas (an old version answers 400). Either way the whole list goes now.
    paused = outcome.status !== 409;
  }
  const next: DeltaState = { v: 2, base: view.maxIndex, deltas: 0, fullAt: nowMs, ...snapshot, ...(paused ? { paused } : {}) };
  const keep = view.maxIndex > 0;
  const outcome = await transport.send(compact.whole(), deadline, keep ? stage(next) : undefined);
  if (outcome.kind === 'sent' && keep) {
    commit(next);
    store.sweepTemps(Date.now());
  } else {
    discard();
    if (outcome.kind === 'rejected') store.clear();
  }
  return outcome;
}
