/**
 * Inhibition and time-based muting as an operator meets them: `npm start` (its sweeper every
 * second), the bundled shim as Consul runs it, the record of every notification. A node's
 * serfHealth going critical opens the node's incident (one NODE DOWN notice; serfHealth's own
 * alert folds into it) and inhibits its service checks (equal: node), not another node's;
 * when it passes again, one RESOLVED for the node, and the held check is announced once. A route whose mute interval holds
 * now (computed at test time) hears nothing; one whose interval does not hold hears at once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { shimChecks, until } from '../support/e2e-steps';
import { NotificationLog, type ReceivedNotification } from '../support/notifications';
import { WEEKDAYS } from '../../lambdas/domain/rules/time-intervals';

let pipeline: LocalPipeline;
let notifications: NotificationLog;
const seen: ReceivedNotification[] = [];

// The UTC weekday now and one that is not today (the test never spans two days' worth of time).
const today = WEEKDAYS[new Date().getUTCDay()]!;
const notToday = WEEKDAYS[(new Date().getUTCDay() + 3) % 7]!;

beforeAll(async () => {
  ensureBuilt();
  const file = join(tempDir('tocsin-e2e-inhibit-'), 'tocsin.yaml');
  writeFileSync(
    file,
    `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  ops: { type: email }
  chat: { type: email }
defaults: { channels: [ops] }
timeIntervals:
  today: [{ weekdays: [${today}] }]
  notToday: [{ weekdays: [${notToday}] }]
rules:
  - name: disk-muted
    match: { check: disk-muted }
    channels: [chat]
    muteTimeIntervals: [today]
  - name: disk-open
    match: { check: disk-open }
    channels: [chat]
    muteTimeIntervals: [notToday]
inhibit:
  - source: { check: serfHealth, status: critical }
    target: { check: { not: serfHealth } }
    equal: [node]
`,
  );
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_SWEEP_SECONDS: '1', TOCSIN_LOCAL_SILENCE_CACHE_MS: '0' } });
  notifications = NotificationLog.of(pipeline.dataDir, { fromStart: true });
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  expect(code).toBe(0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const read = () => {
  seen.push(...notifications.readNew());
  return seen;
};
const about = (node: string, check: string) => read().filter((n) => n.alert.node === node && n.alert.check === check);
const incident = (node: string) => read().filter((n) => n.alert.node === node && n.alert.kind === 'node');
const shown = () => read().map((n) => `${n.alert.title} -> ${n.channels.join('+')}`).join('\n');

type Status = 'passing' | 'critical';
/** The whole `all` scope: serfHealth and web on n1 and n2, two disk checks on n3. */
function snapshot(s: { serf1?: Status; web1?: Status; web2?: Status; diskMuted?: Status; diskOpen?: Status }, index: number) {
  const check = (Node: string, CheckID: string, Status: Status, service = '') => ({
    Node,
    CheckID,
    Name: CheckID,
    Status,
    Output: Status === 'critical' ? `${CheckID} failing` : 'ok',
    ServiceID: service,
    ServiceName: service,
    ServiceTags: [],
    ModifyIndex: index,
  });
  return shimChecks(
    pipeline,
    'all',
    [
      check('n1', 'serfHealth', s.serf1 ?? 'passing'),
      check('n2', 'serfHealth', 'passing'),
      check('n1', 'service:web', s.web1 ?? 'passing', 'web'),
      check('n2', 'service:web', s.web2 ?? 'passing', 'web'),
      check('n3', 'disk-muted', s.diskMuted ?? 'passing'),
      check('n3', 'disk-open', s.diskOpen ?? 'passing'),
    ],
    index,
  );
}

describe('inhibition and time-based muting (npm start)', () => {
  it('a node down is one incident and inhibits its own service check, not another node\'s; its end announces the held one once', async () => {
    await snapshot({}, 10);
    await snapshot({ serf1: 'critical' }, 11);
    await until('NODE DOWN: n1', () => incident('n1').length === 1, 20000, shown);
    expect(incident('n1')[0]!.alert).toMatchObject({ title: 'NODE DOWN: n1', state: 'firing', source: 'tocsin' });

    await snapshot({ serf1: 'critical', web1: 'critical', web2: 'critical' }, 12);
    await until('web on n2', () => about('n2', 'service:web').length === 1, 20000, shown);
    await sleep(2000); // two sweeps: the inhibited one stays held
    expect(about('n1', 'service:web')).toEqual([]);
    expect(pipeline.logs()).toMatch(/alert inhibited/);

    await snapshot({ web1: 'critical', web2: 'critical' }, 13);
    await until('the held web on n1, once n1 is back', () => about('n1', 'service:web').length === 1, 20000, shown);
    const [held] = about('n1', 'service:web');
    expect(held!.alert.state).toBe('firing');
    expect(held!.channels).toEqual(['ops']);
    const line = held!.alert.details.find(([k]) => k === 'inhibited until');
    expect(line?.[1]).toContain('check/n1/serfHealth');
    expect(incident('n1').map((n) => `${n.alert.state} ${n.alert.title}`)).toEqual(['firing NODE DOWN: n1', 'resolved RESOLVED: node n1 is back']);
    expect(about('n1', 'serfHealth')).toEqual([]); // folded into the incident
    await sleep(2000); // more sweeps: still one notice
    expect(about('n1', 'service:web')).toHaveLength(1);
  }, 90000);

  it('a route muted now hears nothing (logged, deferred to the mute\'s end); one muted at another time hears at once', async () => {
    await snapshot({ web1: 'critical', web2: 'critical', diskMuted: 'critical', diskOpen: 'critical' }, 14);
    await until('disk-open on chat', () => about('n3', 'disk-open').length === 1, 20000, shown);
    expect(about('n3', 'disk-open')[0]!.channels).toEqual(['chat']);
    await sleep(1500);
    expect(about('n3', 'disk-muted')).toEqual([]);
    const muted = pipeline
      .logs()
      .split('\n')
      .filter((l) => l.includes('route muted') && l.includes('disk-muted'));
    expect(muted.length).toBeGreaterThan(0);
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString();
    expect(muted[0]).toContain('"outcome":"deferred"');
    expect(muted[0]).toContain(tomorrow);
  }, 60000);
});
