/**
 * Message templates (channels/templates.ts), table-driven: the variables every kind gets,
 * no HTML escaping, rule over channel over default, the configuration check (a template that
 * does not parse, a partial, an unknown variable: an error with file, path and line), and
 * each kind rendering the template's output within its own limits (email subject 100
 * characters at a word, Slack header and sections, PagerDuty summary 1024, webhook, Teams).
 */
import { ConfigFileError, parseConfigText } from '../../lambdas/commons/config-file';
import type { Alert } from '../../lambdas/domain/types';
import { lambdaConfig } from '../../channels';
import { emailChannel } from '../../channels/email';
import { pagerDutyEvent, type PagerDutyTrigger } from '../../channels/pagerduty/render';
import { slackMessage } from '../../channels/slack/render';
import { teamsMessage, messageBytes, TEAMS_LIMITS } from '../../channels/teams/render';
import { channelTexts, emailTexts, renderTemplate, templateProblems, templateVariables } from '../../channels/templates';
import { webhookPayload } from '../../channels/webhook/render';
import { snsMessage } from '../../lambdas/adapters/sns-publisher';
import { teamsMessageErrors } from '../support/fake-teams';
import { webhookPayloadValidator } from '../support/webhook-receiver';

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'abc123',
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: 'critical',
  state: 'firing',
  node: 'web-1',
  service: 'web',
  check: 'service:web',
  title: 'CRITICAL: web-1 / service:web (HTTP on :80)',
  from: 'passing',
  to: 'critical',
  at: '2026-03-01T12:00:00.000Z',
  details: [
    ['Output', 'HTTP 503 <b>&amp;</b>'],
    ['Check type', 'http'],
  ],
  rules: ['web'],
  channels: ['ops', 'mail'],
  episode: 'ep-1',
  ...over,
});
const view = (a: Alert = alert(), link?: string) => templateVariables(a, link, { name: 'ops', type: 'teams' });

describe('variables', () => {
  test.each<[string, string, Partial<Alert>, string]>([
    ['the alert fields', '{{SEVERITY}} {{severity}} {{cluster}}/{{node}}/{{service}}/{{check}} {{kind}} {{source}}', {}, 'CRITICAL critical prod/web-1/web/service:web check consul'],
    ['state as flags', '{{#firing}}FIRING{{/firing}}{{#resolved}}OK{{/resolved}}', { state: 'resolved' }, 'OK'],
    ['status', '{{status}} since {{since}}', { since: '2026-03-01T11:00:00Z' }, 'passing → critical since 2026-03-01T11:00:00Z'],
    ['details as a list', '{{#details}}{{name}}={{value}};{{/details}}', {}, 'Output=HTTP 503 <b>&amp;</b>;Check type=http;'],
    ['details as a map, by name key', '{{detail.output}} | {{detail.check_type}}', {}, 'HTTP 503 <b>&amp;</b> | http'],
    ['no HTML escaping', '{{title}} {{detail.output}}', { title: 'A & <B>' }, 'A & <B> HTTP 503 <b>&amp;</b>'],
    ['the episode, the rules', '{{episode}} {{rule}} {{#rules}}[{{.}}]{{/rules}}', { rules: ['web', 'all'] }, 'ep-1 web [web][all]'],
    ['a reminder', '{{#reminder}}reminder {{reminder}}: {{/reminder}}{{defaultTitle}}', { reminder: 2 }, 'reminder 2: CRITICAL: web-1 / service:web (HTTP on :80) (reminder 2)'],
    ['a digest', '{{#digest}}{{count}} ({{more}} more) in {{windowSeconds}}s{{/digest}}', { kind: 'digest', digest: { count: 12, windowStart: 'x', windowSeconds: 60 } }, '12 (11 more) in 60s'],
    ['no node: empty', '[{{node}}]', { node: '-' }, '[]'],
  ])('%s', (_name, template, over, expected) => {
    expect(templateProblems(template)).toEqual([]);
    expect(renderTemplate(template, view(alert(over)))).toBe(expected);
  });

  test('the link and the channel', () => {
    expect(renderTemplate('{{link}} {{channel}} {{channelType}}', view(alert(), 'https://c.example/x?a=1&b=2'))).toBe('https://c.example/x?a=1&b=2 ops teams');
  });
});

describe('templateProblems', () => {
  test.each([
    ['{{#firing}}x', 'the template does not parse: Unclosed section "firing" at 12'],
    ['line 1\n{{title', 'the template does not parse: Unclosed tag at 14 (line 2 of the template)'],
    ['{{> header}}', 'partials are not supported ({{> header}})'],
    ['{{nod}}', 'unknown variable "nod"'],
    ['{{name}}', 'unknown variable "name"'],
  ])('%j', (template, problem) => {
    expect(templateProblems(template).join('\n')).toContain(problem);
  });
});

const CONFIG = `clusters: [prod]
channels:
  ops:
    type: teams
    url: "http://127.0.0.1:1/w"
    template:
      title: "{{SEVERITY}} on {{node}}"
      body: "channel body {{detail.output}}"
  pager: { type: pagerduty, routingKey: "R0UT1NGKEY0123456789abcdefABCDEF" }
  mail: { type: email, addresses: [a@example.com], template: { title: "mail {{node}}" } }
rules:
  - name: db
    match: { service: db }
    channels: [ops, pager]
    template: { title: "DB {{status}}" }
  - name: web
    match: { service: web }
    channels: [ops, pager, mail]
`;

describe('configuration', () => {
  const issues = (yaml: string): string[] => {
    try {
      parseConfigText(yaml, '/etc/tocsin.yaml');
    } catch (err) {
      if (err instanceof ConfigFileError) return err.message.split('\n').slice(1).map((l) => l.trim());
      throw err;
    }
    return [];
  };

  test('rule over channel over default, field by field; nothing without a template', () => {
    const { runtime } = parseConfigText(CONFIG, '/etc/tocsin.yaml');
    const texts = channelTexts(runtime);
    expect(texts(alert({ rules: ['db'], service: 'db' }), undefined, 'ops')).toEqual({ title: 'DB passing → critical', body: 'channel body HTTP 503 <b>&amp;</b>' });
    expect(texts(alert(), undefined, 'ops')).toEqual({ title: 'CRITICAL on web-1', body: 'channel body HTTP 503 <b>&amp;</b>' });
    expect(texts(alert({ rules: ['db'] }), undefined, 'pager')).toEqual({ title: 'DB passing → critical' });
    expect(texts(alert(), undefined, 'pager')).toBeUndefined();
    // A title that renders blank falls back to the default one.
    const blank = channelTexts({ channels: { x: { type: 'teams', template: { title: '{{node}} ' } } }, rules: [] });
    expect(blank(alert({ node: '-' }), undefined, 'x')).toBeUndefined();
    expect(blank(alert(), undefined, 'x')).toEqual({ title: 'web-1' });
    expect(emailTexts(runtime)(alert(), undefined)).toEqual({ title: 'mail web-1' });
  });

  test('the Lambdas keep the templates (the channel worker renders them)', () => {
    const { runtime } = parseConfigText(CONFIG, '/etc/tocsin.yaml');
    const forLambda = lambdaConfig(runtime);
    expect(forLambda.channels.ops).toEqual({ type: 'teams', template: { title: '{{SEVERITY}} on {{node}}', body: 'channel body {{detail.output}}' } });
    expect(forLambda.rules[0]!.template).toEqual({ title: 'DB {{status}}' });
  });

  test.each<[string, string, string]>([
    ['a channel template that does not parse', CONFIG.replace('"{{SEVERITY}} on {{node}}"', '"{{#firing}} on {{node}}"'), 'channels.ops.template.title (line 7, column 14): the template does not parse: Unclosed section "firing"'],
    ['a rule template with an unknown variable', CONFIG.replace('"DB {{status}}"', '"DB {{stat}}"'), 'rules[0].template.title (line 15, column 24): unknown variable "stat"'],
    ['a partial', CONFIG.replace('"channel body {{detail.output}}"', '"{{> body}}"'), 'channels.ops.template.body (line 8, column 13): partials are not supported'],
    ['an unknown template key', CONFIG.replace('body: "channel body', 'text: "channel body'), 'channels.ops.template'],
    ['two email channels with different templates', CONFIG.replace('rules:', '  mail2: { type: email, addresses: [b@example.com] }\nrules:'), 'channels.mail2.template (line 11, column 10): email channels share one message per notification'],
  ])('%s is a config error with file, path and line', (_name, yaml, expected) => {
    expect(issues(yaml).join('\n')).toContain(expected);
  });
});

describe('each kind renders the template within its limits', () => {
  const longTitle = `CRITICAL: ${'disk full on a very long host name '.repeat(60)}`;

  test('email: the subject is the title cut at a word within 100, the body the whole text', () => {
    const { subject, text } = emailChannel.render(alert(), undefined, { title: longTitle, body: 'B' });
    expect(subject.length).toBeLessThanOrEqual(100);
    // Cut where a word ends: what is kept, then a space, starts the title.
    expect(longTitle.startsWith(`${subject.replace(/\.\.\.$/, '')} `)).toBe(true);
    expect(text).toBe('B');
    expect(emailChannel.render(alert(), undefined, { body: 'B' }).subject).toBe('[tocsin prod] CRITICAL: web-1 / service:web (HTTP on :80)');
  });

  test('email deployed: the SNS message carries the templated subject and text for the email subscribers, the alert itself for the others', () => {
    const { runtime } = parseConfigText(CONFIG.replace('template: { title: "mail {{node}}" }', 'template: { title: "mail {{node}}", body: "on {{cluster}}" }'), '/etc/tocsin.yaml');
    const a = alert();
    const { subject, message } = snsMessage(a, undefined, emailTexts(runtime)(a, undefined));
    const bodies = JSON.parse(message);
    expect(subject).toBe('mail web-1');
    expect(bodies.email).toBe('on prod');
    expect(JSON.parse(bodies.sqs)).toEqual(a);
    expect(emailTexts(runtime)({ ...a, channels: ['ops'] }, undefined)).toBeUndefined();
  });

  test('Slack: the title in the header (150) and fallback, the body escaped in sections of 3,000 in place of the details', () => {
    const m = slackMessage(alert(), undefined, { title: longTitle, body: `<b>${'x'.repeat(7000)}` });
    const blocks = m.attachments[0]!.blocks;
    expect(String((blocks[0] as any).text.text).length).toBeLessThanOrEqual(150);
    expect(m.text).toContain('CRITICAL: disk full');
    const sections = blocks.filter((b) => b.type === 'section' && (b as any).text);
    expect(sections.map((s) => (s as any).text.text.length)).toEqual([3000, 3000, 1009]);
    expect((sections[0] as any).text.text.startsWith('&lt;b&gt;')).toBe(true);
    expect(JSON.stringify(blocks)).not.toContain('HTTP 503');
  });

  test('PagerDuty: the title is the summary (1024 at a word), the body custom_details.message', () => {
    const e = pagerDutyEvent(alert(), undefined, { title: `CRITICAL: ${'word '.repeat(400)}`, body: 'the body' }) as PagerDutyTrigger;
    expect([...e.payload.summary].length).toBeLessThanOrEqual(1024);
    expect(e.payload.summary.endsWith('word…')).toBe(true);
    expect(e.payload.custom_details).toMatchObject({ message: 'the body', Output: 'HTTP 503 <b>&amp;</b>' });
    expect(pagerDutyEvent(alert({ state: 'resolved' }), undefined, { title: 'x' })).toEqual({ event_action: 'resolve', dedup_key: 'ep-1' });
  });

  test('webhook: title replaced, the body as text (an optional field of payload version 1)', () => {
    const templated = webhookPayload(alert(), undefined, { title: 'T', body: 'B' });
    expect(templated).toMatchObject({ title: 'T', text: 'B' });
    const validate = webhookPayloadValidator();
    expect(validate(templated)).toBe(true);
    expect(webhookPayload(alert())).not.toHaveProperty('text');
  });

  test('Teams: the title in the card (300 at a word), the body as plain text in place of the details, valid and under 28 KB', () => {
    const m = teamsMessage(alert(), undefined, { title: longTitle, body: `*not bold* ${'é'.repeat(40_000)}` });
    expect(messageBytes(m)).toBeLessThanOrEqual(TEAMS_LIMITS.messageBytes);
    expect([...m.summary].length).toBeLessThanOrEqual(TEAMS_LIMITS.title);
    expect(JSON.stringify(m)).not.toContain('HTTP 503');
    expect(JSON.stringify(m)).toContain('"text":"*not bold* éé');
    expect(teamsMessageErrors(m)).toEqual([]);
  });
});
