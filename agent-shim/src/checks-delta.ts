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
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Envelope } from '../../lambdas/domain/types';
import type { CheckDeltaBody } from '../../lambdas/domain/consul/check-deltas';
import type { Outcome, Transport } from './transport';
import { PROJECTED_FORM, projectCheck } from '../../lambdas/domain/consul/wire-form';
import type { Compacted } from './compact';

/** node -> checkId -> ModifyIndex */
type IndexTree = Record<string, Record<string, number>>;

export interface ChecksView {
  entries: Array<Record<string, unknown>>;
  tree: IndexTree;
  count: number;
  /** Highest ModifyIndex in the list. */
  maxIndex: number;
}

export interface DeltaState {
  v: 1;
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
  count: number;
  checks: IndexTree;
}

export interface DeltaPolicy {
  /** A whole list at least every this many sends (1: never a delta). */
  fullEvery: number;
  /** A whole list at least this often. */
  fullIntervalS: number;
}

/** The watch result as a checks list, or undefined when it is not one we can diff safely. */
export function readChecksView(body: string, alreadyParsed?: unknown): ChecksView | undefined {
  let parsed: unknown = alreadyParsed;
  if (parsed === undefined) {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const tree: IndexTree = Object.create(null) as IndexTree;
  let maxIndex = 0;
  for (const e of parsed as unknown[]) {
    if (typeof e !== 'object' || e === null) return undefined;
    const { Node: node, CheckID: id, ModifyIndex: index } = e as Record<string, unknown>;
    if (typeof node !== 'string' || typeof id !== 'string' || node === '' || id === '') return undefined;
    if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0) return undefined;
    const checks = (tree[node] ??= Object.create(null) as Record<string, number>);
    if (checks[id] !== undefined) return undefined; // duplicate: let the backend judge the whole list
    checks[id] = index;
    if (index > maxIndex) maxIndex = index;
  }
  return { entries: parsed as Array<Record<string, unknown>>, tree, count: parsed.length, maxIndex };
}

const hasOwn = Object.prototype.hasOwnProperty;

/** prev[node][id] for a tree read back from JSON (own properties only: a node may be called "constructor"). */
function lookup(tree: IndexTree, node: string, id: string): number | undefined {
  const checks = hasOwn.call(tree, node) ? tree[node] : undefined;
  return checks && hasOwn.call(checks, id) ? checks[id] : undefined;
}

/** What changed in `view` since `prev` (which held `prevCount` checks). */
export function diffChecks(view: ChecksView, prev: IndexTree, prevCount: number): CheckDeltaBody {
  const changed: unknown[] = [];
  let known = 0;
  for (const e of view.entries) {
    const before = lookup(prev, e.Node as string, e.CheckID as string);
    if (before !== undefined) known++;
    if (before !== e.ModifyIndex) changed.push(e);
  }
  const removed: CheckDeltaBody['removed'] = [];
  // Only walk `prev` when some of its checks are missing from `view`.
  if (known < prevCount) {
    for (const node of Object.keys(prev)) {
      const now = view.tree[node];
      for (const id of Object.keys(prev[node] as Record<string, number>)) {
        if (now?.[id] === undefined) removed.push({ Node: node, CheckID: id });
      }
    }
  }
  return { changed, removed };
}

export interface StagedState {
  commit(): void;
  discard(): void;
}

/** A staged temp file older than this belongs to a run that is gone (the time bound is seconds). */
const STALE_TEMP_MS = 60 * 60 * 1000;

export class DeltaStateFile {
  readonly file: string;

  constructor(stateDir: string, cluster: string, scope: string) {
    // cluster and scope match CLUSTER_NAME_PATTERN: safe as file name parts; '+' is in neither.
    this.file = path.join(stateDir, `checks+${cluster}+${scope}.state`);
  }

  load(): DeltaState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const s = JSON.parse(text) as DeltaState;
      const ok =
        s && s.v === 1 && Number.isSafeInteger(s.base) && s.base > 0 && Number.isSafeInteger(s.deltas) && Number.isSafeInteger(s.count) && Number.isFinite(s.fullAt) &&
        typeof s.checks === 'object' && s.checks !== null;
      return ok ? s : undefined;
    } catch {
      return undefined; // torn or foreign file: the next send is a whole list
    }
  }

  /**
   * Write-then-rename; no fsync: a lost or torn file only costs one whole list.
   * `checksJson`: JSON.stringify(state.checks), when the caller prepared it already.
   */
  save(state: DeltaState, checksJson?: string): void {
    this.stage(state, checksJson)?.commit();
  }

  /**
   * The write half of save(): `state` in a temp file next to the state file, which only
   * commit() (a rename) turns into the state; discard() drops it. Lets the write happen
   * while a send is in flight and be committed only once it is known to be delivered.
   * Never throws; undefined when the temp file cannot be written.
   */
  stage(state: DeltaState, checksJson?: string): StagedState | undefined {
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const { checks, ...head } = state;
      const text = `${JSON.stringify(head).slice(0, -1)},"checks":${checksJson ?? JSON.stringify(checks)}}`;
      fs.writeFileSync(tmp, text, { mode: 0o600 });
    } catch {
      /* state is an optimisation: without it the next send is a whole list */
      return undefined;
    }
    const drop = (): void => {
      try {
        fs.unlinkSync(tmp);
      } catch {
        /* gone already */
      }
    };
    return {
      commit: () => {
        try {
          fs.renameSync(tmp, this.file);
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
    const dir = path.dirname(this.file);
    const prefix = `${path.basename(this.file)}.`;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.startsWith(prefix) || !n.endsWith('.tmp') || n === `${prefix}${process.pid}.tmp`) continue;
      try {
        const p = path.join(dir, n);
        if (nowMs - fs.statSync(p).mtimeMs > STALE_TEMP_MS) fs.unlinkSync(p);
      } catch {
        /* raced with its owner or another sweeper */
      }
    }
  }

  clear(): void {
    try {
      fs.unlinkSync(this.file);
    } catch {
      /* gone already */
    }
  }
}

/** CONSUL_INDEX as a number, when it is one we can compare. */
function watchIndex(envelope: Envelope): number | undefined {
  const n = envelope.index !== null && /^\d{1,15}$/.test(envelope.index) ? Number(envelope.index) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function wantDelta(prev: DeltaState | undefined, policy: DeltaPolicy, nowMs: number, index?: number): prev is DeltaState {
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
  const view = compact.parsed !== undefined ? readChecksView(full.body, compact.parsed) : undefined;
  if (!view) return transport.send(compact.whole(), deadline);
  const store = new DeltaStateFile(stateDir, full.cluster, full.scope ?? full.type);
  const prev = store.load();
  // The state a delivered send leads to is written to a temp file while the API works on
  // the request (onSent), and renamed into place only once the API has accepted it.
  let checksJson: string | undefined;
  let staged: StagedState | undefined;
  const stage = (state: DeltaState) => () => {
    checksJson ??= JSON.stringify(view.tree);
    staged = store.stage(state, checksJson);
  };
  const commit = (state: DeltaState): void => {
    if (staged) staged.commit();
    else store.save(state, checksJson); // answered before onSent ran (or staging failed)
    staged = undefined;
  };
  const discard = (): void => {
    staged?.discard();
    staged = undefined;
  };
  let paused = false;
  const index = watchIndex(full);
  const at = index !== undefined ? { index } : {};
  if (wantDelta(prev, policy, nowMs, index)) {
    const next: DeltaState = { v: 1, base: view.maxIndex, deltas: prev.deltas + 1, fullAt: prev.fullAt, count: view.count, ...at, checks: view.tree };
    const diff = diffChecks(view, prev.checks, prev.count);
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
  const next: DeltaState = { v: 1, base: view.maxIndex, deltas: 0, fullAt: nowMs, count: view.count, ...at, checks: view.tree, ...(paused ? { paused } : {}) };
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
