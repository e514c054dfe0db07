/**
 * The rule that tells a Serf clock restart from an old replay (lambdas/domain/serf/lamport-clock.ts,
 * docs/serf.md "Lamport clocks"), from a table: the clock record as tocsin holds it, one report
 * (LTime, handler time), what it is.
 */
import {
  CLOCK_SKEW_MS,
  MAX_LINEAGES,
  RING_SLOTS,
  SERF_BUFFER,
  attributeReport,
  ringSlot,
  type ClockLineage,
  type LamportClockState,
} from '../../lambdas/domain/serf/lamport-clock';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
/** ISO time `s` seconds after T0. */
const t = (s: number) => new Date(T0 + s * 1000).toISOString();
const NOW = t(3600);

const first = (high: number | bigint, highAt = 0): ClockLineage => ({ epoch: 0, ring: 0, high: String(high), highAt: t(highAt) });
const restarted = (epoch: number, ring: number, high: number, highAt: number, since: number, after = '10000'): ClockLineage => ({
  epoch,
  ring,
  high: String(high),
  highAt: t(highAt),
  since: t(since),
  revealedBy: { ltime: String(high), after },
});
const clockOf = (...lineages: ClockLineage[]): LamportClockState => ({ lineages, createdAt: t(-86400), restarts: lineages.length - 1 });

/** The verdict in a few words: "restart", "epoch 0", "epoch 0 late". */
function verdict(clock: LamportClockState | undefined, ltime: number | bigint, at: number): string {
  const a = attributeReport(clock, { ltime: String(ltime), at: t(at) }, NOW);
  return a.kind === 'restart' ? 'restart' : `epoch ${a.lineage.epoch}${a.late ? ' late' : ''}`;
}

const skew = CLOCK_SKEW_MS / 1000;
const W = Number(SERF_BUFFER);

describe('attributeReport: a clock restart versus an old replay', () => {
  const single = clockOf(first(10000, 100));
  const afterRestart = clockOf(restarted(1, 1, 3, 500, 490), first(10000, 100));

  it.each<[string, LamportClockState | undefined, number, number, string]>([
    ['the first report tocsin sees starts the first run', undefined, 10000, 100, 'epoch 0'],
    ['the next event', single, 10001, 200, 'epoch 0'],
    ['a jump ahead (other names advanced the shared clock, or a handler filter)', single, 250000, 200, 'epoch 0'],
    ['another agent, the same LTime', single, 10000, 101, 'epoch 0'],
    ['an older LTime inside Serf\'s window (coalescing, a lagging agent, a -replay join)', single, 10000 - W + 1, 300, 'epoch 0'],
    ['the issue: LTime 2 after 10,000, handled after 10,000 was: the clock restarted', single, 2, 400, 'restart'],
    ['at the window edge, handled well after the high: restart', single, 10000 - W, 400, 'restart'],
    ['far behind but handled BEFORE the high was (a spooled envelope): late, same run', single, 2, 50, 'epoch 0 late'],
    ['far behind, handled within the clock skew after the high: late, same run', single, 2, 100 + skew, 'epoch 0 late'],
    ['far behind, handled just past the skew allowance: restart', single, 2, 100 + skew + 1, 'restart'],
    ['after a restart: the new run goes on', afterRestart, 4, 510, 'epoch 1'],
    ['after a restart: another agent reports the revealing event', afterRestart, 3, 505, 'epoch 1'],
    ['after a restart: its earliest report, handled before the one that revealed it, arrives late', afterRestart, 2, 480, 'epoch 1'],
    ['after a restart: an envelope spooled before it, of the old run', afterRestart, 9999, 90, 'epoch 0'],
    ['after a restart: the old run still reports (a false restart, a partition): deduped in it', afterRestart, 10001, 520, 'epoch 0'],
    ['after a restart: a late delivery of the old run, handled before it reached 10,000', afterRestart, 9000, 60, 'epoch 0 late'],
    ['after a restart: the new run has climbed near the old high; nearest high wins', clockOf(restarted(1, 1, 9990, 900, 490), first(10000, 100)), 9991, 910, 'epoch 1'],
    ['a second restart, once the new run passed the window', clockOf(restarted(1, 1, 2000, 900, 490), first(10000, 100)), 1, 1000, 'restart'],
    ['a restart before the clock passed the window cannot be told from a replay (docs/serf.md: limits)', afterRestart, 1, 1000, 'epoch 1'],
  ])('%s', (_name, clock, ltime, at, expected) => {
    expect(verdict(clock, ltime, at)).toBe(expected);
  });

  it('a restart opens a new run with its own ring and keeps the previous one', () => {
    const a = attributeReport(single, { ltime: '2', at: t(400) }, NOW);
    expect(a).toMatchObject({ kind: 'restart', after: { epoch: 0, high: '10000' } });
    expect(a.next?.lineages).toEqual([
      { epoch: 1, ring: 1, high: '2', highAt: t(400), since: t(400), revealedBy: { ltime: '2', after: '10000' } },
      first(10000, 100),
    ]);
    expect(a.next?.restarts).toBe(1);
  });

  it(`keeps at most ${MAX_LINEAGES} runs: a further restart evicts the one advanced least recently and takes its ring`, () => {
    const a = attributeReport(clockOf(restarted(1, 1, 2000, 900, 490), first(10000, 100)), { ltime: '1', at: t(1000) }, NOW);
    expect(a.kind).toBe('restart');
    expect(a.next?.lineages.map((x) => [x.epoch, x.ring])).toEqual([
      [2, 0],
      [1, 1],
    ]);
  });

  it('the run a report belongs to moves forward: a higher LTime sets high and highAt; older ones write nothing', () => {
    expect(attributeReport(single, { ltime: '10005', at: t(200) }, NOW)).toMatchObject({ next: { lineages: [{ high: '10005', highAt: t(200) }] } });
    expect(attributeReport(single, { ltime: '9999', at: t(200) }, NOW).next).toBeUndefined();
    expect(attributeReport(single, { ltime: '2', at: t(50) }, NOW).next).toBeUndefined();
    // An early report of a restarted run moves its start back.
    expect(attributeReport(afterRestart, { ltime: '2', at: t(480) }, NOW).next?.lineages[0]).toMatchObject({ since: t(480), high: '3' });
  });

  it('LTimes beyond 2^53 compare exactly', () => {
    const big = clockOf(first(9007199254740993n, 100));
    expect(verdict(big, 9007199254740993n - SERF_BUFFER + 1n, 300)).toBe('epoch 0');
    expect(verdict(big, 9007199254740993n - SERF_BUFFER, 300)).toBe('restart');
  });

  it('ring slots are the LTime modulo the ring size', () => {
    expect(ringSlot('2')).toBe('2');
    expect(ringSlot(String(RING_SLOTS + 2n))).toBe('2');
    expect(ringSlot('9007199254740993')).toBe(String(9007199254740993n % RING_SLOTS));
  });
});
