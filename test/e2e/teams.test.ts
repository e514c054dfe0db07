/**
 * End to end, locally: the bundled shim -> `npm start` (tocsin.yaml with a Teams channel whose
 * workflow URL comes from the environment, and a rule template) -> rules -> the queue-delivered
 * worker -> a fake Teams workflow enforcing the contract (signature, Adaptive Card schema,
 * 28 KB) that answers the first request 429 with Retry-After: the critical card and the
 * resolved card, both shaped by the template; minSeverity keeps a warning out.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { shimChecks, until } from '../support/e2e-steps';
import { startFakeTeams, type FakeTeams } from '../support/fake-teams';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';

let teams: FakeTeams;
let pipeline: LocalPipeline;

const config = () => `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  ops-teams:
    type: teams
    urlEnv: E2E_TEAMS_URL
    minSeverity: critical
    template:
      title: "{{SEVERITY}} {{#resolved}}(over) {{/resolved}}{{check}} on {{node}} in {{cluster}}"
defaults: { channels: [email] }
delivery: { teams: { minIntervalMs: 0 } }
links: { alert: "https://consul.example.com/ui/{cluster}/nodes/{node}" }
rules:
  - name: web
    match: { check: { glob: "web-*" } }
    channels: [ops-teams]
    template:
      body: "{{#firing}}Down since {{at}}: {{detail.output}}{{/firing}}{{#resolved}}Back: {{status}}{{/resolved}}"
`;

beforeAll(async () => {
  ensureBuilt();
  teams = await startFakeTeams();
  teams.throttleOnce = 1;
  const file = join(tempDir('tocsin-e2e-teams-'), 'tocsin.yaml');
  writeFileSync(file, config());
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_RETRY_SECONDS: '1', E2E_TEAMS_URL: teams.url('ops') } });
  expect(pipeline.output()).toMatch(/^# teams channel ops-teams: http:\/\/127\.0\.0\.1:\d+\/… \(critical and above\) \(queue tocsin-teams-ops-teams\)/m);
  expect(pipeline.output()).toContain('# teams dead-letter queue: tocsin-teams-dlq (0 messages)');
  // The workflow URL is the secret: never in the banner or the logs.
  expect(`${pipeline.output()}${pipeline.logs()}`).not.toContain('sig=');
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  await teams?.close();
  expect(code).toBe(0);
});

const seen = () => teams.posts.map((p) => `${p.status} ${p.answer} ${JSON.stringify(p.body).slice(0, 300)}`).join('\n');
const check = (id: string, status: string, index: number) => ({ Node: 'web-1', CheckID: id, Status: status, Output: `${id} ${status}`, ModifyIndex: index });
const texts = (card: Record<string, any>) => JSON.stringify(card.body);

it('critical -> a red card with the template (after one 429), resolved -> a green one; a warning stays out', async () => {
  await shimChecks(pipeline, 'web', [check('web-1', 'critical', 20), check('web-2', 'warning', 20)], 20);
  await until('the critical card', () => teams.cardsOf('ops').length === 1, 15000, seen);
  expect(teams.posts.map((p) => p.status)).toEqual([429, 202]);
  const critical = teams.cardsOf('ops')[0]!;
  expect(critical.body[0]).toMatchObject({ type: 'Container', style: 'attention' });
  expect(critical.body[0].items[1].inlines[0].text).toBe('CRITICAL web-1 on web-1 in default');
  expect(texts(critical)).toMatch(/"text":"Down since \d{4}-\d\d-\d\dT[^"]+: web-1 critical"/);
  expect(critical.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open', url: 'https://consul.example.com/ui/default/nodes/web-1' }]);
  expect(critical.body[1].facts).toEqual(expect.arrayContaining([{ title: 'Cluster', value: 'default' }, { title: 'Check', value: 'web\\-1' }]));

  await shimChecks(pipeline, 'web', [check('web-1', 'passing', 21), check('web-2', 'warning', 20)], 21);
  await until('the resolved card', () => teams.cardsOf('ops').length === 2, 15000, seen);
  const resolved = teams.cardsOf('ops')[1]!;
  expect(resolved.body[0]).toMatchObject({ style: 'good', items: [{ text: 'RESOLVED', color: 'good' }, { inlines: [{ text: 'CRITICAL (over) web-1 on web-1 in default' }] }] });
  expect(texts(resolved)).toContain('"text":"Back: critical → passing"');

  // Every answer was the contract's (nothing refused), and the warning never came (minSeverity: critical).
  expect(teams.posts.every((p) => p.status === 202 || p.status === 429)).toBe(true);
  expect(seen()).not.toContain('web-2');
}, 60000);
