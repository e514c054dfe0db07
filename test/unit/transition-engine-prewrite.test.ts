/**
 * The transition engine's steps before its compare-and-set (issue 12: they go out at once so
 * that the batched ones share a call): the storm's fold ahead, the firing inhibition source
 * and the read model's index entry all start before any of them ended, all have landed
 * before the write starts, and a failure of any of them fails the apply with nothing
 * written (the crash between them and the write: an index entry too many, never one too few).
 */
import { TransitionEngine, type Decision } from '../../lambdas/app/transition-engine';
import type { AlertReadModel } from '../../lambdas/app/read-model-ports';
import type { FiringSources } from '../../lambdas/app/delivery-ports';
import type { OutboxPublisher } from '../../lambdas/app/ports';
import type { Episodic } from '../../lambdas/domain/rules/episodes';
import { CARRIED_HISTORY, CARRIED_HISTORY_FIELD, type CarriedEntry, type FiringAlert } from '../../lambdas/domain/rules/read-model';
import { StrictMemoryStore } from '../support/strict-fakes';
import { routedCheckAlert } from '../support/routed-alert';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const SUBJECT = 'check/web-1/http';
type State = Episodic & { n: number };

/** A step that reports when it starts and ends, and can be made to fail. */
function step(log: string[], name: string, fail = false): () => Promise<void> {
  return async () => {
    log.push(`${name} start`);
    await new Promise((r) => setTimeout(r, 5));
    log.push(`${name} end`);
    if (fail) throw new Error(`${name} failed`);
  };
}

function setup(opts: { failIndex?: boolean; failSource?: boolean } = {}) {
  const log: string[] = [];
  const store = new StrictMemoryStore();
  const put = store.put.bind(store);
  store.put = async (...args: Parameters<StrictMemoryStore['put']>) => {
    log.push('write');
    return put(...args);
  };
  const indexed: FiringAlert[] = [];
  const putFiring = step(log, 'index put', opts.failIndex);
  const readModel = {
    putFiring: async (_cluster: string, alert: FiringAlert) => {
      await putFiring();
      indexed.push(alert);
    },
    retentionMs: 30 * 86_400_000,
    removeFiring: async () => undefined,
    appendHistory: async () => undefined,
    spillHistory: async () => undefined,
  } as unknown as AlertReadModel;
  const addSource = step(log, 'source add', opts.failSource);
  const firingSources = { add: async () => addSource(), remove: async () => undefined } as unknown as FiringSources;
  const foldAhead = step(log, 'fold ahead');
  const publisher: OutboxPublisher = {
    dispatch: async () => undefined,
    settleAhead: async () => {
      await foldAhead();
      return true;
    },
    readModel,
    firingSources,
  };
  const engine = new TransitionEngine({ subjects: store, publisher, clock: { nowMs: () => NOW } });
  const alert = routedCheckAlert(NOW);
  const decision: Decision<State> = {
    kind: 'write',
    state: { n: 1, episode: { id: alert.id, startedAt: NOW, status: 'critical', severity: 'critical', routes: {} } },
    outbox: { alert, routing: { deliveries: [{ alert, channels: ['oncall'] }], timers: [] } } as never,
    firing: { kind: 'source', source: { subject: SUBJECT, episode: alert.id, facts: {} as never, recordedAt: NOW } },
  };
  return { log, store, engine, indexed, apply: () => engine.apply<State>('prod', SUBJECT, () => decision, null) };
}

describe('TransitionEngine: the steps before the write', () => {
  it('start at once, and all have landed before the compare-and-set', async () => {
    const { log, apply, store, indexed } = setup();
    expect(await apply()).toBe('published'); // folded ahead: no outbox entry to publish
    const starts = log.filter((l) => l.endsWith('start'));
    expect(starts.sort()).toEqual(['fold ahead start', 'index put start', 'source add start']);
    // Every step started before the first one ended: they ran at once.
    const firstEnd = log.findIndex((l) => l.endsWith('end'));
    expect(log.slice(0, firstEnd).filter((l) => l.endsWith('start')).length).toBe(3);
    // The write came after every step had ended.
    expect(log.indexOf('write')).toBeGreaterThan(Math.max(...log.map((l, i) => (l.endsWith('end') ? i : -1))));
    expect(indexed.map((a) => a.episode)).toEqual(['abc123']);
    const record = await store.get<State>('prod', SUBJECT);
    expect(record?.state.n).toBe(1);
    expect(record?.pending).toBeUndefined(); // the fold ahead settled it
  });

  it.each([
    ['the index put', { failIndex: true }, 'index put failed'],
    ['the firing source', { failSource: true }, 'source add failed'],
  ])('a failure of %s fails the apply with nothing written, after the other steps ended', async (_name, opts, message) => {
    const { log, apply, store } = setup(opts);
    await expect(apply()).rejects.toThrow(message);
    expect(log).not.toContain('write');
    expect(log.filter((l) => l.endsWith('end')).length).toBe(3); // none left running
    expect(await store.get('prod', SUBJECT)).toBeUndefined();
  });
});

describe('TransitionEngine: where a write\'s history goes (placeHistory)', () => {
  const RETENTION = 30 * 86_400_000;
  function history(previous: CarriedEntry[] = [], ttlSeconds?: number) {
    const log: string[] = [];
    const store = new StrictMemoryStore();
    const put = store.put.bind(store);
    store.put = async (...args: Parameters<StrictMemoryStore['put']>) => {
      log.push('write');
      return put(...args);
    };
    const spilled: CarriedEntry[][] = [];
    const appended: unknown[] = [];
    const spill = step(log, 'spill');
    const readModel = {
      retentionMs: RETENTION,
      putFiring: async () => undefined,
      removeFiring: async () => undefined,
      appendHistory: async (_c: string, e: unknown) => void (log.push('append'), appended.push(e)),
      spillHistory: async (_c: string, _s: string, entries: CarriedEntry[]) => {
        await spill();
        spilled.push(entries);
      },
    } as unknown as AlertReadModel;
    const engine = new TransitionEngine({ subjects: store, publisher: { dispatch: async () => undefined, readModel }, clock: { nowMs: () => NOW } });
    const alert = routedCheckAlert(NOW);
    // The source's state never mentions the history: the engine carries it on.
    const decide = (): Decision<State> => ({
      kind: 'write',
      state: { n: 2, episode: { id: alert.id, startedAt: NOW, status: 'critical', severity: 'critical', routes: {} } },
      outbox: { alert, routing: { deliveries: [{ alert, channels: ['oncall'] }], timers: [] } } as never,
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
    });
    // The seeded record (seed below) is read by the engine; none: known absent.
    return { log, spilled, appended, store, apply: () => engine.apply<State>('prod', SUBJECT, decide, previous.length > 0 ? undefined : null) };
  }
  const old = (n: number) => Array.from({ length: n }, (_, i) => ({ at: NOW - 1000 + i, events: [{ type: 'notice' as const, severity: 'info' as const, title: 't' }] }));
  const seed = async (s: StrictMemoryStore, previous: CarriedEntry[]) => {
    if (previous.length > 0) await s.put('prod', SUBJECT, undefined, { state: { n: 1, [CARRIED_HISTORY_FIELD]: previous } });
  };

  it('the entry is carried by the record the compare-and-set writes, with the earlier ones; nothing else is written', async () => {
    const h = history(old(2));
    await seed(h.store, old(2));
    h.log.length = 0;
    await h.apply();
    const record = await h.store.get<State & { history: CarriedEntry[] }>('prod', SUBJECT);
    expect(record?.state.history.map((e) => e.at)).toEqual([...old(2).map((e) => e.at), NOW]);
    expect(record?.state.history[2]!.events.map((e) => e.type)).toEqual(['firing', 'notified']);
    expect(h.spilled).toEqual([]);
    expect(h.appended).toEqual([]);
  });

  it('a full record: its oldest entries land in an h# item before the write that drops them', async () => {
    const h = history(old(CARRIED_HISTORY.maxEntries));
    await seed(h.store, old(CARRIED_HISTORY.maxEntries));
    h.log.length = 0;
    await h.apply();
    expect(h.log.indexOf('spill end')).toBeLessThan(h.log.indexOf('write'));
    const record = await h.store.get<State & { history: CarriedEntry[] }>('prod', SUBJECT);
    expect([...h.spilled.flat(), ...record!.state.history].map((e) => e.at)).toEqual([...old(CARRIED_HISTORY.maxEntries).map((e) => e.at), NOW]);
  });

  it('a record that expires before the retention: its entries before the write, the new one after it', async () => {
    const h = history(old(2), 7 * 86_400);
    await seed(h.store, old(2));
    h.log.length = 0;
    await h.apply();
    expect(h.log.indexOf('spill end')).toBeLessThan(h.log.indexOf('write'));
    expect(h.log.indexOf('append')).toBeGreaterThan(h.log.indexOf('write'));
    expect(h.appended).toEqual([expect.objectContaining({ at: NOW, subject: SUBJECT })]);
    expect((await h.store.get<Record<string, unknown>>('prod', SUBJECT))?.state).not.toHaveProperty(CARRIED_HISTORY_FIELD);
  });
});
