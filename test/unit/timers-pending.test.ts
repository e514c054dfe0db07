/** What the sweeper finds due in the index of pending timer steps (domain/rules/pending.ts). */
import { isOverdue, overdueUpToKey, pendingSortKey } from '../../lambdas/domain/rules/pending';
import type { DigestTimer, SubjectTimer } from '../../lambdas/domain/rules/outbox';

const NOW = Date.UTC(2026, 11, 2, 3, 0, 0);
const GRACE = 30_000;

const step = (over: Partial<SubjectTimer> = {}): SubjectTimer => ({
  kind: 'for',
  cluster: 'prod',
  subject: 'check/web-1/service:web',
  episode: 'a1',
  rule: 'slow',
  seq: 0,
  dueAt: NOW,
  alert: { id: 'a1', source: 'consul', kind: 'check', cluster: 'prod', node: 'web-1', severity: 'critical', state: 'firing', to: 'critical', title: 'CRITICAL: web', at: '' } as SubjectTimer['alert'],
  ...over,
});
const digest = (dueAt: number): DigestTimer => ({ kind: 'digest', cluster: 'prod', channel: 'ops', window: dueAt - 62_000, dueAt });

describe('pending timer steps: what is due', () => {
  it('a step is overdue once it is due and the queue had the grace to deliver it, not before', () => {
    expect(isOverdue(step({ dueAt: NOW - GRACE }), NOW, GRACE)).toBe(true);
    expect(isOverdue(step({ dueAt: NOW - GRACE - 1 }), NOW, GRACE)).toBe(true);
    expect(isOverdue(step({ dueAt: NOW - GRACE + 1 }), NOW, GRACE)).toBe(false);
    expect(isOverdue(step({ dueAt: NOW }), NOW, GRACE)).toBe(false);
    expect(isOverdue(step({ dueAt: NOW + 3600_000 }), NOW, GRACE)).toBe(false);
    expect(isOverdue(digest(NOW - GRACE), NOW, GRACE)).toBe(true);
    expect(isOverdue(digest(NOW - GRACE + 1), NOW, GRACE)).toBe(false);
    expect(isOverdue(step({ dueAt: NOW }), NOW, 0)).toBe(true);
  });

  it('keys sort by due time across digit counts, so one range query reads what is due, oldest first', () => {
    const times = [5, 999, 1000, NOW - 1, NOW, NOW + 1, 10 ** 13 + 7];
    const keys = [...times].reverse().map((t) => pendingSortKey(step({ dueAt: t })));
    expect([...keys].sort()).toEqual(times.map((t) => pendingSortKey(step({ dueAt: t }))));
    for (const t of times) expect(pendingSortKey(digest(t)) <= overdueUpToKey(t, 0)).toBe(true);
    expect(pendingSortKey(step({ dueAt: NOW + 1 })) > overdueUpToKey(NOW, 0)).toBe(true);
  });

  it('one key per step: kind, reminder number, rule, episode and subject tell steps apart', () => {
    const keys = new Set([
      pendingSortKey(step()),
      pendingSortKey(step({ kind: 'repeat' })),
      pendingSortKey(step({ kind: 'repeat', seq: 1 })),
      pendingSortKey(step({ rule: 'other' })),
      pendingSortKey(step({ episode: 'a2' })),
      pendingSortKey(step({ subject: 'check/web-2/service:web' })),
      pendingSortKey(digest(NOW)),
      pendingSortKey({ ...digest(NOW), channel: 'storm' }),
    ]);
    expect(keys.size).toBe(8);
    expect(pendingSortKey(step())).toBe(pendingSortKey(step())); // the worker removes what the dispatcher added
  });
});
