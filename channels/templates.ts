/**
 * Message templates (tocsin.yaml `channels.<name>.template` and `rules[].template`, each
 * `{ title, body }`), in Mustache (the `mustache` package: logic-less, well kept, bundled
 * into the Lambdas by esbuild). Every channel kind gets the same variables
 * (templateVariables, listed in README "Message templates"); the kind renders the result
 * within its own limits (email subject 100 characters cut at a word, Slack blocks, the
 * PagerDuty summary, the Teams card ...). Precedence per field: the first rule of the
 * alert's `rules` that has a template and routes to the channel, over the channel's
 * template, over the kind's default message. Mustache's HTML escaping is off: no channel
 * takes HTML (email is plain text); each kind treats the output as text and escapes it as
 * it escapes alert text. Templates are checked when the configuration is loaded: one that
 * does not parse, uses a partial, or names an unknown variable is a configuration error.
 */
import Mustache from 'mustache';
import type { ConfigIssue, ConfigPath } from '../lambdas/domain/rules/config';
import type { ChannelSpec, RuleSpec, RuntimeConfig, TemplateSpec } from '../lambdas/domain/rules/types';
import type { Alert } from '../lambdas/domain/types';

export type { TemplateSpec };

/** A template's output for one alert and channel: what the kind puts in its title and body. */
export interface TemplateText {
  title?: string;
  body?: string;
}

export interface TemplateVariables {
  id: string;
  cluster: string;
  source: string;
  kind: string;
  severity: string;
  /** CRITICAL, WARNING, INFO. */
  SEVERITY: string;
  state: string;
  firing: boolean;
  resolved: boolean;
  node: string;
  service: string;
  check: string;
  /** The alert's own title (the verdict first). */
  title: string;
  /** The title the channel would use without a template (with "(reminder N)" on reminders). */
  defaultTitle: string;
  from: string;
  to: string;
  /** "passing → critical". */
  status: string;
  at: string;
  since: string;
  reminder: number | false;
  episode: string;
  rules: string[];
  rule: string;
  details: Array<{ name: string; value: string }>;
  /** By name as written and by its key form (lower case, other characters `_`): `{{detail.output}}`. */
  detail: Record<string, string>;
  link: string;
  digest: { count: number; more: number; windowStart: string; windowSeconds: number } | false;
  channel: string;
  channelType: string;
}

/** The variables' names, for the config check (and the README's list). */
export const TEMPLATE_VARIABLES: readonly (keyof TemplateVariables)[] = [
  'id', 'cluster', 'source', 'kind', 'severity', 'SEVERITY', 'state', 'firing', 'resolved', 'node', 'service', 'check', 'title', 'defaultTitle',
  'from', 'to', 'status', 'at', 'since', 'reminder', 'episode', 'rules', 'rule', 'details', 'detail', 'link', 'digest', 'channel', 'channelType',
];
/** Names valid inside a section over a list or an object: a detail's, a digest's, `.`. */
const NESTED_NAMES = ['name', 'value', 'count', 'more', 'windowStart', 'windowSeconds', '.'];

export function detailKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

export function templateVariables(alert: Alert, link: string | undefined, channel: { name: string; type: string }): TemplateVariables {
  const detail: Record<string, string> = {};
  for (const [name, value] of alert.details) {
    detail[name] ??= value;
    detail[detailKey(name)] ??= value;
  }
  return {
    id: alert.id,
    cluster: alert.cluster,
    source: alert.source,
    kind: alert.kind,
    severity: alert.severity,
    SEVERITY: alert.severity.toUpperCase(),
    state: alert.state,
    firing: alert.state === 'firing',
    resolved: alert.state === 'resolved',
    node: alert.node && alert.node !== '-' ? alert.node : '',
    service: alert.service ?? '',
    check: alert.check ?? '',
    title: alert.title,
    defaultTitle: `${alert.title}${alert.reminder ? ` (reminder ${alert.reminder})` : ''}`,
    from: alert.from ?? '',
    to: alert.to,
    status: alert.kind === 'digest' ? '' : `${alert.from ?? '?'} → ${alert.to}`,
    at: alert.at,
    since: alert.since ?? '',
    reminder: alert.reminder ?? false,
    episode: alert.episode ?? alert.id,
    rules: alert.rules ?? [],
    rule: alert.rules?.[0] ?? '',
    details: alert.details.map(([name, value]) => ({ name, value })),
    detail,
    link: link ?? '',
    digest: alert.digest ? { ...alert.digest, more: Math.max(0, alert.digest.count - 1) } : false,
    channel: channel.name,
    channelType: channel.type,
  };
}

const NO_ESCAPING = { escape: (text: string) => text };

export function renderTemplate(template: string, view: TemplateVariables): string {
  return Mustache.render(template, view, {}, NO_ESCAPING);
}

/** What is wrong with a template (empty: fine): it must parse, use no partial, and name known variables only. */
export function templateProblems(template: string): string[] {
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(template);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at (\d+)$/.exec(message);
    const line = at ? template.slice(0, Number(at[1])).split('\n').length : undefined;
    return [`the template does not parse: ${message}${line !== undefined && template.includes('\n') ? ` (line ${line} of the template)` : ''}`];
  }
  const problems: string[] = [];
  const known = new Set<string>(TEMPLATE_VARIABLES);
  const walk = (list: unknown[], depth: number): void => {
    for (const token of list as Array<[string, string, number, number, unknown[]?]>) {
      const [type, value] = token;
      if (type === '>') problems.push(`partials are not supported ({{> ${value}}})`);
      if (['name', '&', '#', '^'].includes(type)) {
        const root = value === '.' ? '.' : value.split('.')[0]!;
        if (!known.has(root) && !(depth > 0 && NESTED_NAMES.includes(root))) problems.push(`unknown variable "${value}" (known: ${TEMPLATE_VARIABLES.join(', ')})`);
      }
      if ((type === '#' || type === '^') && Array.isArray(token[4])) walk(token[4], depth + 1);
    }
  };
  walk(tokens, 0);
  return [...new Set(problems)];
}

function templateIssuesAt(spec: TemplateSpec | undefined, path: ConfigPath): ConfigIssue[] {
  if (!spec) return [];
  return (['title', 'body'] as const).flatMap((field) => (spec[field] === undefined ? [] : templateProblems(spec[field]!).map((reason) => ({ path: [...path, field], reason }))));
}

/** Every template of the configuration checked (paths from the top of tocsin.yaml). */
export function templateIssues(config: Pick<RuntimeConfig, 'channels' | 'rules'>): ConfigIssue[] {
  const issues = [
    ...Object.entries(config.channels).flatMap(([name, ch]) => templateIssuesAt(ch.template, ['channels', name, 'template'])),
    ...config.rules.flatMap((rule, i) => templateIssuesAt(rule.template, ['rules', i, 'template'])),
  ];
  // One SNS message carries the email of every email channel it is for: one email text.
  const emails = Object.entries(config.channels).filter(([, ch]) => ch.type === 'email');
  const first = emails.find(([, ch]) => ch.template)?.[0];
  for (const [name, ch] of emails) {
    if (first && JSON.stringify(ch.template ?? null) !== JSON.stringify(config.channels[first]!.template)) {
      issues.push({ path: ['channels', name, 'template'], reason: `email channels share one message per notification (SNS): give every email channel the same template as channels.${first}, or set it on the rules` });
    }
  }
  return issues;
}

/** The rule whose template applies to `alert` on `channel`: the first of its rules with one that routes there. */
function ruleTemplate(rules: readonly RuleSpec[], channel: string, alert: Alert): TemplateSpec | undefined {
  for (const name of alert.rules ?? []) {
    const rule = rules.find((r) => r.name === name);
    if (rule?.template && (!rule.channels || rule.channels.includes(channel))) return rule.template;
  }
  return undefined;
}

/** The templated title and body of `alert` for `channel`, or undefined when no template applies. */
export type ChannelTexts = (alert: Alert, link: string | undefined, channel: string) => TemplateText | undefined;

export function channelTexts(config: Pick<RuntimeConfig, 'channels' | 'rules'>): ChannelTexts {
  return (alert, link, channel) => {
    const spec: ChannelSpec | undefined = config.channels[channel];
    const rule = ruleTemplate(config.rules, channel, alert);
    const title = rule?.title ?? spec?.template?.title;
    const body = rule?.body ?? spec?.template?.body;
    if (title === undefined && body === undefined) return undefined;
    const view = templateVariables(alert, link, { name: channel, type: spec?.type ?? '' });
    // A title that renders blank (a section that did not apply) falls back to the default: no message goes out untitled.
    const renderedTitle = title !== undefined ? renderTemplate(title, view).replace(/\s+/g, ' ').trim() : '';
    const text: TemplateText = { ...(renderedTitle !== '' ? { title: renderedTitle } : {}), ...(body !== undefined ? { body: renderTemplate(body, view) } : {}) };
    return text.title === undefined && text.body === undefined ? undefined : text;
  };
}

/**
 * The email text of a notification: SNS sends one email body to every email channel it is
 * for, so the template is that of its first email channel (templateIssues requires every
 * email channel to have the same one) or of its rule.
 */
export function emailTexts(config: Pick<RuntimeConfig, 'channels' | 'rules'>): (alert: Alert, link: string | undefined) => TemplateText | undefined {
  const texts = channelTexts(config);
  return (alert, link) => {
    const channel = (alert.channels ?? []).find((name) => config.channels[name]?.type === 'email');
    return channel ? texts(alert, link, channel) : undefined;
  };
}

/** JSON Schema of `template` (channels and rules). */
export const TEMPLATE_SCHEMA = {
  description: 'Mustache templates replacing the title and/or the body of the message (README "Message templates").',
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 2000 },
    body: { type: 'string', maxLength: 20000 },
  },
} as const;
