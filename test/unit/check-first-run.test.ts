/**
 * A check that has not run yet (consul/first-run.ts, docs/consul.md "A new check"): Consul
 * registers it critical with empty Output; its alert is held for the grace, raised at once
 * when the check reports failing, dropped when it reports passing, and raised when the
 * grace runs out without a result.
 */
import { checkAlert } from '../../lambdas/domain/consul/check-alerts';
import { decideCheck, evaluateCheckPolicy, defaultCheckPolicy, nextCheckState, type CheckTransition, type StoredCheck } from '../../lambdas/domain/consul/check-transitions';
import { awaitingFirstRun, firstRunGraceSeconds, goDurationSeconds } from '../../lambdas/domain/consul/first-run';
import { normalizeCheck } from '../../lambdas/domain/consul/checks';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { routeAlert } from '../../lambdas/domain/rules/episodes';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import type { RuleSpec } from '../../lambdas/domain/rules/types';
import { healthCheck, nodeMaintenance, type HealthCheckFixture } from '../support/consul-fixtures';

/** A check as Consul registers it without a status: critical, no Output, ModifyIndex = CreateIndex. */
const registered = (over: Partial<HealthCheckFixture> = {}) => normalizeCheck(healthCheck({ Status: 'critical', Output: '', CreateIndex: 50, ModifyIndex: 50, ...over }));
const AT = '2026-03-01T00:00:00.000Z';

describe('awaitingFirstRun', () => {
  test.each<[string, Partial<HealthCheckFixture>, boolean]>([
    ['registered, not run yet', {}, true],
    ['ran and failed with output', { Output: 'connection refused', ModifyIndex: 51 }, false],
    ['output, same index (an HTTP check registered with a status and output)', { Output: 'x' }, false],
    ['empty output after a change: it ran', { ModifyIndex: 60 }, false],
    ['registered passing', { Status: 'passing' }, false],
    ['registered warning', { Status: 'warning' }, false],
    ['no CreateIndex given', { CreateIndex: 0, ModifyIndex: 0 }, false],
  ])('%s', (_name, over, expected) => {
    expect(awaitingFirstRun(registered(over))).toBe(expected);
  });

  it('maintenance checks are critical with empty output by design: not a check awaiting its run', () => {
    expect(awaitingFirstRun(normalizeCheck(nodeMaintenance('web-1', '', 70)))).toBe(false);
  });
});

describe('the grace', () => {
  test.each<[unknown, number | undefined]>([
    ['10s', 10],
    ['1m30s', 90],
    ['1h0m0s', 3600],
    ['1.5s', 1.5],
    ['500ms', 0.5],
    ['0s', 0],
    ['', undefined],
    ['10', undefined],
    [10, undefined],
  ])('Go duration %j', (text, seconds) => {
    expect(goDurationSeconds(text)).toBe(seconds);
  });

  test.each<[Record<string, unknown> | undefined, number | undefined, number]>([
    [undefined, undefined, 120],
    [{ Interval: '0s', Timeout: '0s' }, undefined, 120], // Consul 1.7's catalog: zero values
    [{ Interval: '10s' }, undefined, 120],
    [{ Interval: '5m0s' }, undefined, 630], // twice the interval plus 30 s
    [{ Interval: '24h0m0s' }, undefined, 3600], // at most an hour from the interval
    [{ Interval: '10s' }, 300, 300],
    [{ Interval: '5m0s' }, 0, 0], // 0 turns holding off
  ])('Definition %j, configured %j: %ds', (definition, configured, expected) => {
    expect(firstRunGraceSeconds(definition ? { definition } : {}, configured)).toBe(expected);
  });

  it('is checks.firstRunGrace in tocsin.yaml, from 0 to a day', () => {
    const doc = (firstRunGrace: unknown) => ({ clusters: ['a'], checks: { firstRunGrace } });
    expect(normalizeConfig(doc('5m')).config.checks).toEqual({ firstRunGraceSeconds: 300 });
    expect(normalizeConfig(doc(0)).config.checks).toEqual({ firstRunGraceSeconds: 0 });
    expect(normalizeConfig({ clusters: ['a'] }).config.checks).toBeUndefined();
    expect(normalizeConfig(doc('2d')).issues).toEqual([{ path: ['checks', 'firstRunGrace'], reason: 'must be between 0s and 1d' }]);
  });
});

describe('decideCheck and the policy', () => {
  const transition = (previous: StoredCheck | undefined, o: ReturnType<typeof registered>): CheckTransition => {
    const d = decideCheck('prod', previous, o, AT, 0);
    if (d.kind !== 'transition') throw new Error(`expected a transition, got ${JSON.stringify(d)}`);
    return d.transition;
  };

  it('a new check awaiting its run: a critical alert, marked held, the state remembers it', () => {
    const t = transition(undefined, registered());
    expect(t).toMatchObject({ to: 'critical', awaitingFirstRun: true });
    const { intent } = evaluateCheckPolicy(defaultCheckPolicy, t);
    expect(intent).toEqual({ severity: 'critical', state: 'firing' });
    expect(nextCheckState(t, intent)).toMatchObject({ status: 'critical', alerting: 'critical', awaitingFirstRun: true });
    const alert = checkAlert(t, intent!, 120);
    expect(alert.title).toBe("CRITICAL: Service 'web' check (service web) on web-1: no result since it was registered");
    expect(alert.details).toContainEqual(['Reason', expect.stringContaining('critical with empty output until its first run') as string]);
  });

  it('a repeat of the same registration is stale: the hold stays as it is', () => {
    const held = nextCheckState(transition(undefined, registered()), { severity: 'critical', state: 'firing' });
    expect(decideCheck('prod', held, registered(), AT)).toEqual({ kind: 'ignore', reason: 'stale' });
  });

  it('the first result, still critical: a transition of its own, raised although an alert is recorded', () => {
    const held = nextCheckState(transition(undefined, registered()), { severity: 'critical', state: 'firing' });
    const t = transition(held, registered({ Output: 'dial tcp: connection refused', ModifyIndex: 52 }));
    expect(t).toMatchObject({ from: 'critical', to: 'critical', firstRunReported: true });
    expect(t.awaitingFirstRun).toBeUndefined();
    const { intent } = evaluateCheckPolicy(defaultCheckPolicy, t);
    expect(intent).toEqual({ severity: 'critical', state: 'firing' });
    expect(nextCheckState(t, intent).awaitingFirstRun).toBeUndefined();
    expect(checkAlert(t, intent!).title).toBe("CRITICAL: Service 'web' check (service web) on web-1");
  });

  it('the first result, passing: resolves what was held', () => {
    const held = nextCheckState(transition(undefined, registered()), { severity: 'critical', state: 'firing' });
    const t = transition(held, registered({ Status: 'passing', Output: 'ok', ModifyIndex: 52 }));
    expect(evaluateCheckPolicy(defaultCheckPolicy, t).intent).toEqual({ severity: 'info', state: 'resolved' });
  });

  it('an existing check going critical without output is not held (it ran: ModifyIndex moved)', () => {
    const t = transition(undefined, registered({ ModifyIndex: 80 }));
    expect(t.awaitingFirstRun).toBeUndefined();
  });
});

describe('routeAlert with a hold', () => {
  const T0 = Date.parse(AT);
  const rules = (list: RuleSpec[]) =>
    compileRules({ clusters: ['prod'], channels: { email: { type: 'email' }, pager: { type: 'email' } }, defaults: { channels: ['email'], resolved: true }, rules: list, grouping: { windowSeconds: 60, threshold: 20 } });
  const held = () => {
    const t = decideCheck('prod', undefined, registered(), AT);
    if (t.kind !== 'transition') throw new Error('no transition');
    return checkAlert(t.transition, { severity: 'critical', state: 'firing' }, 120);
  };
  const timers = (r: ReturnType<typeof routeAlert>) => r.outbox?.routing?.timers.map((t) => `${t.kind}:${t.rule}@+${(t.dueAt - T0) / 1000}s`) ?? [];
  const now = (r: ReturnType<typeof routeAlert>) => r.outbox?.routing?.deliveries.map((d) => d.channels.join('+')) ?? [];

  it('nobody hears of it before the hold; a longer `for` wins', () => {
    const list: RuleSpec[] = [
      { name: 'slow', match: { kind: 'check', tags: 'primary' }, channels: ['pager'], for: 300, continue: true },
      { name: 'quick', match: { kind: 'check' }, channels: ['email'], for: 60 },
    ];
    const r = routeAlert({ rules: rules(list), alert: held(), subject: 's', previous: undefined, facts: { tags: ['primary'] }, holdSeconds: 120, nowMs: T0 });
    expect(now(r)).toEqual([]);
    expect(timers(r)).toEqual(['for:slow@+300s', 'for:quick@+120s']);
  });

  it('the change that follows (the check reported, still failing) goes out at once', () => {
    const first = routeAlert({ rules: rules([]), alert: held(), subject: 's', previous: undefined, holdSeconds: 120, nowMs: T0 });
    expect(now(first)).toEqual([]);
    expect(timers(first)).toEqual(['for:default@+120s']);
    const second = routeAlert({ rules: rules([]), alert: { ...held(), id: 'reported', title: 'CRITICAL: x' }, subject: 's', previous: first.episode, nowMs: T0 + 30_000 });
    expect(now(second)).toEqual(['email']);
  });
});
