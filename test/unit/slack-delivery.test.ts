/**
 * Slack: Block Kit within Slack's limits; the notifier's per-message outcomes (429
 * Retry-After, backoff, channel filter, pacing); the dispatcher (timers, silences,
 * storm folding, fallback routing); the timer worker's hop past SQS's 900 s.
 */
import { Dispatcher, type ChannelPublisher } from '../../lambdas/app/dispatcher';
import type { StormGate, TimerQueue } from '../../lambdas/app/delivery-ports';
import { backoffSeconds, deliverBatch, isForChannel, type SendResponse } from '../../lambdas/app/channel-delivery';
import { handleTimer } from '../../lambdas/app/timer-worker';
import { delaySeconds } from '../../lambdas/adapters/sqs-timers';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { routeAlert } from '../../lambdas/domain/rules/episodes';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import type { Silence } from '../../lambdas/domain/rules/silences';
import { escapeMrkdwn, slackMessage, SLACK_LIMITS } from '../../channels/slack/render';
import { emailBody } from '../../channels/email/render';
import { snsMessage } from '../../lambdas/adapters/sns-publisher';
import { alertLink } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const clock = { nowMs: () => NOW };
const alert = (over: Partial<Alert> = {}): Alert => ({
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
  at: new Date(NOW).toISOString(),
  details: [['Output', 'connection refused']],
  ...over,
});

describe('slackMessage', () => {
  test.each([
    ['critical', 'firing', ':red_circle:', '#E01E5A'],
    ['warning', 'firing', ':large_orange_circle:', '#ECB22E'],
    ['info', 'firing', ':large_blue_circle:', '#36C5F0'],
    ['critical', 'resolved', ':white_check_mark:', '#2EB67D'],
  ] as const)('%s %s: %s and %s', (severity, state, emoji, color) => {
    const m = slackMessage(alert({ severity, state }));
    expect(m.text.startsWith(`${emoji} [prod] `)).toBe(true);
    expect(m.attachments[0]!.color).toBe(color);
    expect(m.attachments[0]!.fallback).toBe(m.text);
  });

  test('a huge alert stays within 50 blocks, 3,000 characters per section and 150 per header', () => {
    const details: Array<[string, string]> = [
      ...Array.from({ length: 120 }, (_, i) => [`Key ${i}`, `value ${i}`] as [string, string]),
      ...Array.from({ length: 30 }, (_, i) => [`Long ${i}`, 'x'.repeat(9000)] as [string, string]),
    ];
    const m = slackMessage(alert({ title: `CRITICAL: ${'t'.repeat(500)}`, details }), 'https://example.com/x');
    const blocks = m.attachments[0]!.blocks as Array<Record<string, any>>;
    expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(String(blocks[0]!.text.text).length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    for (const b of blocks) {
      if (b.text?.text) expect(String(b.text.text).length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
      for (const f of b.fields ?? []) expect(String(f.text).length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    }
    expect(blocks.at(-1)!.type).toBe('actions'); // the link survives the cut
    expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });

  test('mrkdwn is escaped: no mention or link injection from check output', () => {
    expect(escapeMrkdwn('<!channel> & <http://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
    const text = JSON.stringify(slackMessage(alert({ details: [['Output', '<!here> ```boom```']] })));
    expect(text).not.toContain('<!here>');
  });

  test('digests list their alerts as bullets; reminders say so', () => {
    const digest = slackMessage(alert({ kind: 'digest', title: 'CRITICAL: 7 more notifications for cluster prod (storm digest)', details: [['Alerts', 'a\nb']], digest: { count: 7, windowStart: '', windowSeconds: 60 } }));
    expect(JSON.stringify(digest)).toContain('• a\\n• b');
    expect(slackMessage(alert({ reminder: 2 })).text).toContain('(reminder 2)');
  });
});

describe('deliverBatch', () => {
  const notification = (a: Alert, channels?: string[]) =>
    JSON.stringify({ Message: JSON.parse(snsMessage(a).message).sqs, ...(channels ? { MessageAttributes: { channels: { Type: 'String.Array', Value: JSON.stringify(channels) } } } : {}) });
  const msgs = (n: number, channels?: string[]) => Array.from({ length: n }, (_, i) => ({ id: `m${i}`, body: notification(alert({ id: `a${i}` }), channels), receiveCount: 1 }));
  const run = (answers: SendResponse[], messages = msgs(3)) => {
    const posted: unknown[] = [];
    const slept: number[] = [];
    let t = NOW;
    return deliverBatch(
      {
        render: slackMessage,
        sender: {
          endpoint: 'webhook',
          destinationOf: async () => `https://hooks.example/${Math.random()}`,
          send: async (_url, payload) => (posted.push(payload), answers.shift() ?? { status: 200 }),
        },
        clock: { nowMs: () => t },
        sleep: async (ms) => {
          slept.push(ms);
          t += ms;
        },
        minIntervalMs: 1000,
        retryBaseSeconds: 30,
      },
      'team',
      messages,
    ).then((results) => ({ results, posted, slept }));
  };

  test('all delivered, paced one post per second per webhook', async () => {
    const { results, posted, slept } = await run([]);
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(posted).toHaveLength(3);
    expect(slept).toEqual([1000, 1000]);
  });

  test('429: that message and the rest of the batch come back after Retry-After; nothing else is posted', async () => {
    const { results, posted } = await run([{ status: 200 }, { status: 429, retryAfter: 7 }]);
    expect(results).toEqual([
      { id: 'm0', ok: true },
      { id: 'm1', ok: false, retryAfterSeconds: 7, reason: 'webhook rate limited (429)' },
      { id: 'm2', ok: false, retryAfterSeconds: 7, reason: 'webhook rate limited (429)' },
    ]);
    expect(posted).toHaveLength(2);
  });

  test('5xx: a backoff growing with the receive count; other messages still go', async () => {
    const { results } = await run([{ status: 503, body: 'down' }], [{ ...msgs(1)[0]!, receiveCount: 3 }, ...msgs(2).slice(1)]);
    expect(results[0]).toEqual({ id: 'm0', ok: false, retryAfterSeconds: 120, reason: 'webhook answered 503: down' });
    expect(results[1]!.ok).toBe(true);
    expect([1, 2, 3, 10].map((n) => backoffSeconds(n, 30))).toEqual([30, 60, 120, 900]);
  });

  test('messages for other channels are skipped (local subscriptions cannot filter String.Array)', async () => {
    const { results, posted } = await run([], msgs(2, ['other']));
    expect(results.map((r) => r.ok && r.skipped)).toEqual(['not-for-this-channel', 'not-for-this-channel']);
    expect(posted).toEqual([]);
    expect(isForChannel({ MessageAttributes: { channels: { Type: 'String.Array', Value: '["a","team"]' } } }, 'team')).toBe(true);
    expect(isForChannel({}, 'team')).toBe(true);
  });

  test('an unreadable message is dropped (and logged), not retried forever', async () => {
    const { results } = await run([], [{ id: 'x', body: 'not json', receiveCount: 1 }]);
    expect(results).toEqual([{ id: 'x', ok: true, skipped: 'unreadable' }]);
  });
});

describe('Dispatcher', () => {
  const rules = compileRules({
    clusters: ['prod'],
    channels: { slack: { type: 'slack' }, email: { type: 'email' } },
    defaults: { channels: ['email'], resolved: true },
    rules: [{ name: 'web', match: { service: 'web' }, channels: ['slack', 'email'], for: 60 }, { name: 'noise', match: { service: 'noise' }, suppress: true }],
    grouping: { windowSeconds: 60, threshold: 1 },
  });
  const setup = (opts: { silences?: Silence[]; storm?: StormGate } = {}) => {
    const log: string[] = [];
    const channels: ChannelPublisher = { publish: async (a) => void log.push(`publish ${a.severity} ${a.title} -> ${a.channels!.join('+')}${'routing' in a || 'facts' in a ? ' (LEAK)' : ''}`) };
    const timers: TimerQueue = { schedule: async (t: Timer) => void log.push(`timer ${t.kind}`) };
    const d = new Dispatcher({ rules, channels, timers, clock, ...(opts.silences ? { silences: { forCluster: async () => opts.silences! } } : {}), ...(opts.storm ? { storm: opts.storm } : {}) });
    return { d, log };
  };

  test('a routed alert: its timers, then its deliveries', async () => {
    const { d, log } = setup();
    const routed = routeAlert({ rules, alert: alert({ service: 'db' }), subject: 's', previous: undefined, nowMs: NOW }).outbox!;
    await d.dispatch(routed);
    expect(log).toEqual(['publish critical CRITICAL: http on web-1 -> email']);
    const delayed = routeAlert({ rules, alert: alert(), subject: 's', previous: undefined, nowMs: NOW }).outbox!;
    await d.dispatch(delayed);
    expect(log.slice(1)).toEqual(['timer for']);
  });

  test('an alert without routing (a source that does not call routeAlert) is routed here, momentarily', async () => {
    const { d, log } = setup();
    await d.dispatch({ alert: alert() });
    await d.dispatch({ alert: alert({ service: 'noise' }) });
    expect(log).toEqual(['publish critical CRITICAL: http on web-1 -> slack+email']);
  });

  test('an active matching silence mutes every channel', async () => {
    const silence: Silence = { id: 's1', cluster: 'prod', matchers: { node: { glob: 'web-*' } }, startsAt: new Date(NOW - 1).toISOString(), endsAt: new Date(NOW + 1).toISOString(), author: 'a', comment: 'c', createdAt: '' };
    const { d, log } = setup({ silences: [silence] });
    await d.dispatch({ alert: alert({ service: 'db' }) });
    expect(log).toEqual([]);
    const expired = setup({ silences: [{ ...silence, endsAt: new Date(NOW).toISOString() }] });
    await expired.d.dispatch({ alert: alert({ service: 'db' }) });
    expect(expired.log).toHaveLength(1);
  });

  test('storm: folded channels are left out, the digest timer is scheduled once', async () => {
    let n = 0;
    const storm: StormGate = {
      admit: async (_c, channel) => {
        n++;
        if (channel === 'email') return { verdict: 'deliver' };
        return n === 1 ? { verdict: 'fold', digest: { kind: 'digest', cluster: 'prod', channel, window: NOW, dueAt: NOW + 62_000 } } : { verdict: 'fold' };
      },
    };
    const { d, log } = setup({ storm });
    await d.dispatch({ alert: alert() });
    await d.dispatch({ alert: alert({ id: 'other' }) });
    expect(log).toEqual(['timer digest', 'publish critical CRITICAL: http on web-1 -> email', 'publish critical CRITICAL: http on web-1 -> email']);
  });
});

describe('timers past 900 s hop', () => {
  test('SQS delay is capped at 900 s; a timer woken early goes back on the queue', async () => {
    expect(delaySeconds(NOW + 3600_000, NOW)).toBe(900);
    expect(delaySeconds(NOW + 1500, NOW)).toBe(2);
    expect(delaySeconds(NOW - 5000, NOW)).toBe(0);
    const scheduled: Timer[] = [];
    const timer: Timer = { kind: 'digest', cluster: 'prod', channel: 'slack', window: NOW, dueAt: NOW + 3600_000 };
    const outcome = await handleTimer(
      {
        subjects: {} as never,
        publisher: {} as never,
        channels: {} as never,
        timers: { schedule: async (t) => void scheduled.push(t) },
        digests: {} as never,
        grouping: { windowSeconds: 60, threshold: 1 },
        clock,
      },
      timer,
    );
    expect(outcome).toBe('rescheduled');
    expect(scheduled).toEqual([timer]);
  });
});

describe('email: the link back', () => {
  test('links.alert is filled per alert (URL-encoded) and ends the body; reminders say so', () => {
    const a = alert({ node: 'web 1/a', reminder: 1 });
    const link = alertLink('https://consul.example.com/ui/{cluster}/nodes/{node}?check={check}', a);
    expect(link).toBe('https://consul.example.com/ui/prod/nodes/web%201%2Fa?check=http');
    const body = emailBody(a, link);
    expect(body).toContain('Reminder 1: still firing.');
    expect(body.split('\n').slice(-3)).toEqual([link, '', 'Alert id: abc123']);
    expect(alertLink(undefined, a)).toBeUndefined();
  });
});
