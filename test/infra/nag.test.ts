/**
 * cdk-nag v3 runs as a CDK policy-validation plugin, not as an Aspect: findings
 * are no longer Annotations, so `Annotations.fromStack(...).findError(...)` would
 * see nothing. Instead we (1) synthesize with the packs registered exactly as
 * bin/tocsin.ts does (unacknowledged errors make synthesis throw), and
 * (2) run each pack over the tree with `validateScope`, which returns every
 * unacknowledged finding, errors and warnings alike.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { applyNagPacks } from '../../lib/nag';
import { cdkJsonContext, synth, type Synth } from './helpers';

const CONFIG = `
clusters: [prod, staging]
channels:
  ops: { type: email, addresses: [ops@example.com] }
  oncall: { type: email, addresses: [oncall@example.com], minSeverity: critical }
  team-slack: { type: slack, secretName: tocsin/slack/team }
  pager: { type: pagerduty, secretName: tocsin/pagerduty/oncall, minSeverity: warning }
  hook: { type: webhook, secretName: tocsin/webhook/ops, url: "https://hooks.example.com/tocsin" }
rules:
  - name: web
    match: { service: { glob: "web*" } }
    channels: [team-slack, oncall, pager, hook]
    for: 2m
    repeat: 1h
`;

/** Every acknowledgment recorded in the tree: construct path -> { ruleId: reason }. */
function acknowledgments(root: IConstruct): Array<{ path: string; id: string; reason: string }> {
  const out: Array<{ path: string; id: string; reason: string }> = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        out.push({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return out;
}

/** The lean default, and every deployment opt-in (tracing, the key, dashboard, detailed alarms): each adds findings of its own. */
const VARIANTS: Array<[string, string]> = [
  ['lean default', CONFIG],
  ['every deployment opt-in', `${CONFIG}deployment: { dashboard: true, tracing: true, customerManagedKey: true, detailedAlarms: true }\n`],
];

describe.each(VARIANTS)('cdk-nag: AwsSolutions + Serverless, %s', (_variant, CONFIG) => {
  let s: Synth;
  beforeAll(() => {
    // Template.fromStack inside synth() throws if any pack reports an unacknowledged error.
    s = synth({ bundle: false, config: CONFIG });
  });

  test('both packs are registered', () => {
    expect(s.packs.map((p) => p.name).sort()).toEqual(['AwsSolutions', 'Serverless']);
  });

  test('zero unacknowledged errors and warnings', () => {
    for (const pack of s.packs) {
      const report = pack.validateScope(s.app);
      const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
      expect({ pack: pack.name, findings }).toEqual({ pack: pack.name, findings: [] });
      expect(report.success).toBe(true);
    }
  });

  test('no CDK errors or warnings annotations either', () => {
    const annotations = Annotations.fromStack(s.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('every acknowledgment names a pack rule and carries a written reason', () => {
    const acks = acknowledgments(s.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(a.reason.length).toBeGreaterThan(40);
    }
  });

  test('every acknowledgment is still needed (no stale suppressions)', () => {
    const acks = acknowledgments(s.app);
    // Re-run the packs on a fresh app with acknowledgments switched off: each one must match a real finding.
    const original = Validations.prototype.acknowledge;
    let raw: Array<{ rule: string; path: string }> = [];
    try {
      Validations.prototype.acknowledge = function () {};
      const bare = synth({ bundle: false, nag: false, config: CONFIG });
      const packs = [new AwsSolutionsChecks(), new ServerlessChecks()];
      raw = packs.flatMap((p) =>
        p.validateScope(bare.app).violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' }))),
      );
    } finally {
      Validations.prototype.acknowledge = original;
    }
    for (const a of acks) {
      const matched = raw.some((f) => f.rule === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`)));
      expect({ ack: `${a.id} @ ${a.path}`, matched }).toEqual({ ack: `${a.id} @ ${a.path}`, matched: true });
    }
    // ...and every raw finding is covered by an acknowledgment (the converse of the zero-findings test).
    for (const f of raw) {
      expect(acks.some((a) => a.id === f.rule && (f.path === a.path || f.path.startsWith(`${a.path}/`)))).toBe(true);
    }
  });
});

describe('cdk-nag wiring sanity check', () => {
  test('the packs do report problems, and synthesis fails on them', () => {
    const app = new App({ context: cdkJsonContext() });
    const stack = new Stack(app, 'Bad');
    new Queue(stack, 'PlainQueue'); // no SSL enforcement, no DLQ
    const packs = applyNagPacks(app);
    const rules = packs.flatMap((p) => p.validateScope(app).violations.map((v) => v.ruleName));
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4', 'Serverless-SQSRedrivePolicy']));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });
});
