/**
 * `tocsin template render --channel NAME --alert FILE [--config FILE]`: what tocsin would send
 * to that channel for that alert, as `amtool template render` shows a template's output: the
 * exact payload of the channel's kind (JSON for Slack, PagerDuty, webhooks and Teams; the
 * subject and text for email), with the channel's and the matching rule's templates applied
 * (channels/templates.ts) and links.alert filled in. The alert file is the one `tocsin config
 * routes` reads (bin/commands/config.ts), plus the fields a message shows (title, details as
 * [name, value] pairs, from, to, since, at, reminder, episode, digest). Without `rules` in
 * the file, the rules that route the alert to the channel are found as `config routes` finds
 * them. Secrets and addresses are never printed (webhook signatures are not computed; the
 * PagerDuty routing key is left out, as the sender adds it). Reads files only.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FileConfig } from '../../lambdas/commons/config-file';
import { alertLink } from '../../lambdas/domain/render';
import { alertFacts } from '../../lambdas/domain/rules/episodes';
import { compileRules, evaluateRules } from '../../lambdas/domain/rules/evaluate';
import type { Alert } from '../../lambdas/domain/types';
import { emit, UsageError, type CliOutput } from './admin-client';
import { issueLine, parseAlertFile } from './config';
import { text } from 'node:stream/consumers';

export const TEMPLATE_USAGE = `Usage: tocsin template render --channel NAME --alert FILE [--config FILE]

  Print what tocsin would send to channel NAME for the alert in FILE ("-": stdin): the
  channel kind's exact payload, with the channel's and the rule's templates applied
  (README "Message templates"). FILE holds one alert as JSON (lambdas/domain/types.ts
  Alert: cluster, source, kind, severity, state, node, service, check, title, from, to,
  at, since, details as [["Output", "..."], ...], reminder, episode, rules ...), as for
  tocsin config routes. Without "rules", the rules routing it to NAME are found from the
  configuration. Exit 0, 1 on an invalid configuration, 64 on usage errors.

Options:
  --channel NAME  a channel of tocsin.yaml
  --alert FILE    the alert (JSON; "-" for stdin)
  --config FILE   the tocsin.yaml (default: $TOCSIN_CONFIG, else ./tocsin.yaml)
`;

type ConfigFileModule = typeof import('../../lambdas/commons/config-file');

/** The alert as a message shows it: the fields the routes check needs, defaults for the rest. */
function messageAlert(text: string, name: string): { alert: Alert; extra: Parameters<typeof alertFacts>[1] } {
  const { alert, facts } = parseAlertFile(text, name);
  const raw = JSON.parse(text) as Record<string, unknown>;
  const details = raw.details ?? [];
  if (!Array.isArray(details) || details.some((d) => !Array.isArray(d) || d.length !== 2 || d.some((x) => typeof x !== 'string'))) {
    throw new UsageError(`${name}: details must be a list of [name, value] pairs of strings`);
  }
  const at = typeof raw.at === 'string' ? raw.at : new Date().toISOString();
  return {
    alert: { ...alert, id: typeof raw.id === 'string' ? raw.id : 'template-render', node: alert.node ?? '-', title: alert.title || `${alert.severity.toUpperCase()}: ${alert.kind}`, at, details, to: alert.to ?? '' } as Alert,
    extra: facts,
  };
}

/** The rules that route `alert` to `channel` (what the pipeline would set as Alert.rules). */
function rulesFor(config: FileConfig, alert: Alert, extra: Parameters<typeof alertFacts>[1], channel: string): string[] {
  const decision = evaluateRules(compileRules(config.runtime), alertFacts(alert, extra));
  return decision.routes.filter((r) => r.channels.includes(channel)).map((r) => r.rule);
}

/** The payload as printed: email as a message, every other kind as the JSON it sends. */
export function renderedText(type: string, payload: unknown): string {
  if (type === 'email') {
    const { subject, text } = payload as { subject: string; text: string };
    return `Subject: ${subject}\n\n${text}\n`;
  }
  // Slack's payload carries the Block Kit message and, beside it, the facts app mode threads on: the message is what is sent.
  if (type === 'slack') return `${JSON.stringify((payload as { message: unknown }).message, null, 2)}\n`;
  return `${JSON.stringify(payload, null, 2)}\n`;
}

export function renderForChannel(config: FileConfig, channel: string, alert: Alert): string {
  // Loaded here: the channel registry and Mustache only when this command runs.
  const { channelKind } = require('../../channels') as typeof import('../../channels');
  const { channelTexts } = require('../../channels/templates') as typeof import('../../channels/templates');
  const spec = config.runtime.channels[channel]!;
  const kind = channelKind(spec.type)!;
  const link = alertLink(config.runtime.links?.alert, alert);
  return renderedText(spec.type, kind.render(alert, link, channelTexts(config.runtime)(alert, link, channel)));
}

async function render(values: { channel?: string; alert?: string; config?: string }, env: NodeJS.ProcessEnv, stdin: () => Promise<string>): Promise<CliOutput> {
  if (!values.channel) throw new UsageError('template render needs --channel NAME');
  if (!values.alert) throw new UsageError('template render needs --alert FILE (one alert as JSON; - for stdin)');
  let text: string;
  try {
    text = values.alert === '-' ? await stdin() : readFileSync(values.alert, 'utf8');
  } catch (err) {
    throw new UsageError(`--alert ${values.alert}: ${(err as Error).message}`);
  }
  const { alert, extra } = messageAlert(text, values.alert);
  const { ConfigFileError, loadConfigFile, resolveConfigPath } = require('../../lambdas/commons/config-file') as ConfigFileModule;
  let config: FileConfig;
  try {
    config = loadConfigFile(resolveConfigPath(values.config, env));
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    return { code: 1, stdout: '', stderr: `${err.issues.map((i) => issueLine(err.file, i)).join('\n')}\n` };
  }
  if (!Object.prototype.hasOwnProperty.call(config.runtime.channels, values.channel)) {
    throw new UsageError(`no channel "${values.channel}" in ${config.file} (channels: ${Object.keys(config.runtime.channels).join(', ') || 'none'})`);
  }
  const routed = { ...alert, rules: alert.rules ?? rulesFor(config, alert, extra, values.channel), channels: alert.channels ?? [values.channel] };
  return { code: 0, stdout: renderForChannel(config, values.channel, routed), stderr: '' };
}

/** `--alert -`: the alert from stdin (node's own stream consumer). */
const readStdin = (): Promise<string> => text(process.stdin);

export async function runTemplate(argv: string[], env: NodeJS.ProcessEnv = process.env, stdin: () => Promise<string> = readStdin): Promise<CliOutput> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { channel: { type: 'string' }, alert: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    const [sub, ...rest] = positionals;
    if (values.help || sub === undefined) return { code: values.help ? 0 : 64, stdout: values.help ? TEMPLATE_USAGE : '', stderr: values.help ? '' : TEMPLATE_USAGE };
    if (sub !== 'render') throw new UsageError(`unknown template command "${sub}"; use render`);
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    return await render(values, env, stdin);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return { code: 64, stdout: '', stderr: `tocsin template: ${(err as Error).message}\n\n${TEMPLATE_USAGE}` };
    throw err;
  }
}

export function templateMain(argv: string[]): void {
  emit(runTemplate(argv));
}
