/** `tocsin alerts / history / ack / unack` against a stand-in fetch: what is sent, what is printed. */
import { age, runAlertCommand } from '../../bin/commands/alerts';
import { HEADERS } from '../../lambdas/domain/protocol';
import { sign } from '../../lambdas/domain/signing';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ENV = { TOCSIN_URL: 'https://api.example/v1/ingest', TOCSIN_CLUSTER: 'prod', TOCSIN_VIEWER_KEY: 'viewer', TOCSIN_ADMIN_KEY: 'admin' };

function fakeFetch(status: number, json: unknown) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(json), { status });
  }) as unknown as typeof fetch;
  return { f, calls };
}

const ALERT = { id: 'abcdefghijkl', severity: 'critical', state: 'acknowledged', node: 'web-1', subject: 'check/web-1/http', since: '2026-06-01T09:30:00Z', lastChange: '2026-06-01T09:30:00Z', title: 'CRITICAL: http on web-1', channels: ['ops', 'pager'], ack: { by: 'ann', until: '2026-06-01T16:00:00Z' } };

test('alerts: a table worst first, signed with the viewer key, filters in the query', async () => {
  const { f, calls } = fakeFetch(200, { cluster: 'prod', alerts: [ALERT] });
  const out = await runAlertCommand('alerts', ['--severity', 'critical', '--node', 'web-1'], ENV, f, NOW);
  expect(out.code).toBe(0);
  expect(out.stdout).toBe(
    'ID            SEVERITY  STATE                               FOR    NODE   NOTIFIED   TITLE\n' +
      'abcdefghijkl  CRITICAL  ack ann until 2026-06-01T16:00:00Z  2h30m  web-1  ops,pager  CRITICAL: http on web-1\n',
  );
  expect(calls[0]!.url).toBe('https://api.example/v1/alerts?severity=critical&node=web-1');
  const headers = calls[0]!.init.headers as Record<string, string>;
  expect(headers[HEADERS.signature]).toBe(sign('viewer', 'GET', '/v1/alerts', headers[HEADERS.timestamp]!, ''));
});

test('ack: the admin key, the body from the options; without an admin key a usage error', async () => {
  const { f, calls } = fakeFetch(200, { id: ALERT.id, acknowledged: true, ack: { by: 'ann', until: '2026-06-01T16:00:00Z' } });
  const out = await runAlertCommand('ack', [ALERT.id, '--comment', 'on it', '--until', '4h', '--by', 'ann'], ENV, f, NOW);
  expect(out).toEqual({ code: 0, stdout: `${ALERT.id} acknowledged by ann until 2026-06-01T16:00:00Z\n`, stderr: '' });
  expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ by: 'ann', comment: 'on it', untilSeconds: 14400 });
  const headers = calls[0]!.init.headers as Record<string, string>;
  expect(headers[HEADERS.signature]).toBe(sign('admin', 'POST', `/v1/alerts/${ALERT.id}/ack`, headers[HEADERS.timestamp]!, String(calls[0]!.init.body)));
  const noAdmin = await runAlertCommand('ack', [ALERT.id], { ...ENV, TOCSIN_ADMIN_KEY: '' }, f, NOW);
  expect(noAdmin.code).toBe(64);
  expect(noAdmin.stderr).toContain('TOCSIN_ADMIN_KEY is required');
});

test.each<[string, string[]]>([
  ['not an alert ID', ['ack', 'web-1']],
  ['not a duration', ['ack', ALERT.id, '--until', 'soon']],
  ['exactly one SUBJECT', ['history']],
  ['Unknown option', ['alerts', '--colour', 'red']],
])('usage errors: %s', async (message, [command, ...args]) => {
  const out = await runAlertCommand(command as 'alerts', args, ENV, fakeFetch(200, {}).f, NOW);
  expect(out.code).toBe(64);
  expect(out.stderr).toContain(message);
});

test('an API refusal is printed with its status; 403 exits 1', async () => {
  const out = await runAlertCommand('unack', [ALERT.id], ENV, fakeFetch(403, { error: 'forbidden', message: 'the viewer key may only read' }).f, NOW);
  expect(out).toEqual({ code: 1, stdout: '', stderr: 'tocsin: 403 forbidden: the viewer key may only read\n' });
});

test('age', () => {
  expect(age('2026-06-01T11:59:20Z', NOW)).toBe('40s');
  expect(age('2026-06-01T11:00:00Z', NOW)).toBe('1h');
  expect(age('2026-05-29T10:00:00Z', NOW)).toBe('3d2h');
});
