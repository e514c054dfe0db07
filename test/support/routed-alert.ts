/** A routed, firing check alert (rules and episode set) at `nowMs`: what a queue-delivered channel is handed. */
import type { Alert } from '../../lambdas/domain/types';

export const routedCheckAlert = (nowMs: number, over: Partial<Alert> = {}): Alert => ({
  id: 'abc123',
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: 'critical',
  state: 'firing',
  node: 'web-1',
  service: 'web',
  check: 'http',
  title: 'CRITICAL: http on web-1',
  from: 'passing',
  to: 'critical',
  at: new Date(nowMs).toISOString(),
  details: [['Output', 'connection refused']],
  rules: ['web'],
  episode: 'ep-1',
  ...over,
});
