/** Consul `checks` watch results for the benchmarks, built like test/support/consul-fixtures. */
import { goJsonLine, healthCheck, largeSnapshot, type HealthCheckFixture } from '../../test/support/consul-fixtures';

export { goJsonLine, healthCheck, type HealthCheckFixture };

/** 2,000 passing checks on 200 nodes, ModifyIndex 100..149. */
export function cluster2000(): HealthCheckFixture[] {
  return largeSnapshot(2000);
}

/** A copy of `checks` with entry `i` replaced by `change` (the one change of a steady-state snapshot). */
export function withChange(checks: HealthCheckFixture[], i: number, change: Partial<HealthCheckFixture>): HealthCheckFixture[] {
  const out = checks.slice();
  out[i] = { ...(checks[i] as HealthCheckFixture), ...change };
  return out;
}

export const maxIndex = (checks: HealthCheckFixture[]): number => checks.reduce((m, c) => Math.max(m, c.ModifyIndex), 0);
