/**
 * `tocsin alerts`, `tocsin history`, `tocsin ack`, `tocsin unack`: the operator's view
 * (README "What is firing"), signed like `tocsin silence` (admin-client.ts). The read
 * commands take the cluster's read-only viewer key ($TOCSIN_VIEWER_KEY) or its admin key;
 * ack and unack need the admin key.
 */
import { parseArgs } from 'node:util';
import { age, compactSpan, describeHistoryEvent as describe, type HistoryEventJson } from '../../lambdas/domain/alert-text';
import { ROUTES } from '../../lambdas/domain/protocol';
import { parseDuration } from '../../lambdas/domain/rules/duration';
import { ALERT_FILTERS, ALERT_REF_PATTERN } from '../../lambdas/domain/rules/read-model';
import { keyList } from '../../lambdas/domain/signing';
import { apiBase, call, emit, failed, formatTable, UsageError, type CliOutput, type Fetch } from './admin-client';
import type { AlertCommand } from './alert-commands';

export { age };

export const ALERTS_USAGE = `Usage:
  tocsin alerts [--json] [--severity critical,warning] [--state firing|acknowledged|silenced]
                [--service NAME] [--node NAME] [--text WORDS]
      What is firing now in the cluster, worst first (a table; --json: the API's answer).
  tocsin history SUBJECT [--json]
      A subject's history (e.g. check/web-1/service:web): transitions, notifications,
      silences, acknowledgements; its episodes, flaps and times to recover.
  tocsin ack ID [--comment TEXT] [--until DURATION] [--by NAME]
      Acknowledge a firing alert (ID from tocsin alerts): no reminders while acknowledged;
      a higher severity or a new episode notifies again. --until 4h: it ends by itself.
  tocsin unack ID
      Withdraw the acknowledgement.

Options (and environment):
  --url URL          tocsin API: the ingest URL or its base ($TOCSIN_URL)
  --cluster NAME     the cluster ($TOCSIN_CLUSTER); each key reads its own cluster only
  --viewer-key KEY   the cluster's read-only VIEWER key ($TOCSIN_VIEWER_KEY): alerts, history
  --admin-key KEY    the cluster's ADMIN key ($TOCSIN_ADMIN_KEY): every command
  --by NAME          who acknowledges (default $USER)
`;

interface AlertJson {
  id: string;
  severity: string;
  state: string;
  node: string;
  subject: string;
  since: string;
  lastChange: string;
  title: string;
  channels: string[];
  silencedBy?: string;
  ack?: { by: string; until?: string; comment?: string };
}

function alertsTable(alerts: AlertJson[], nowMs: number): string {
  if (alerts.length === 0) return 'nothing firing\n';
  const rows = alerts.map((a) => {
    const handled = a.state === 'acknowledged' ? `ack ${a.ack?.by ?? ''}${a.ack?.until ? ` until ${a.ack.until}` : ''}` : a.state === 'silenced' ? `silenced ${a.silencedBy ?? ''}` : 'firing';
    return [a.id, a.severity.toUpperCase(), handled, age(a.since, nowMs), a.node, a.channels.join(',') || '-', a.title.replace(/\s+/g, ' ').slice(0, 100)];
  });
  return formatTable(['ID', 'SEVERITY', 'STATE', 'FOR', 'NODE', 'NOTIFIED', 'TITLE'], rows);
}

type Event = HistoryEventJson;

function historyText(subject: string, history: Array<{ at: string; events: Event[] }>, summary: Record<string, unknown>): string {
  const lines = history.flatMap((h) => h.events.map((ev) => `${h.at}  ${describe(ev)}`));
  const recovery = typeof summary.lastRecoveryMs === 'number' ? `, last recovery ${compactSpan(summary.lastRecoveryMs)}, mean ${compactSpan(Number(summary.meanRecoveryMs))}` : '';
  return `${subject}: ${String(summary.episodes)} episode(s), ${String(summary.flaps)} flap(s)${recovery}\n${lines.length ? `${lines.join('\n')}\n` : 'no history within the retention\n'}`;
}

export async function runAlertCommand(command: AlertCommand, argv: string[], env: NodeJS.ProcessEnv = process.env, f: Fetch = fetch, nowMs = Date.now()): Promise<CliOutput> {
  try {
    const filterOptions = Object.fromEntries(Object.keys(ALERT_FILTERS).filter((k) => k !== 'cluster').map((k) => [k, { type: 'string' as const }]));
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        cluster: { type: 'string' },
        'viewer-key': { type: 'string' },
        'admin-key': { type: 'string' },
        json: { type: 'boolean' },
        comment: { type: 'string' },
        until: { type: 'string' },
        by: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(command === 'alerts' ? filterOptions : {}),
      },
    });
    if (values.help) return { code: 0, stdout: ALERTS_USAGE, stderr: '' };
    const url = values.url ?? env.TOCSIN_URL;
    const cluster = values.cluster ?? env.TOCSIN_CLUSTER;
    const writes = command === 'ack' || command === 'unack';
    const admin = values['admin-key'] ?? env.TOCSIN_ADMIN_KEY;
    const viewer = values['viewer-key'] ?? env.TOCSIN_VIEWER_KEY;
    // Reading prefers the viewer key: the least power that does the job.
    const key = writes ? admin : (values['viewer-key'] ?? (values['admin-key'] ? admin : (viewer ?? admin)));
    if (!url) throw new UsageError('--url or TOCSIN_URL is required');
    if (!cluster) throw new UsageError('--cluster or TOCSIN_CLUSTER is required');
    if (!key) throw new UsageError(writes ? "--admin-key or TOCSIN_ADMIN_KEY is required (the cluster's admin key)" : '--viewer-key / TOCSIN_VIEWER_KEY or --admin-key / TOCSIN_ADMIN_KEY is required');
    const target = { base: apiBase(url), cluster, key: keyList(key)[0] ?? key };

    if (command === 'alerts') {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const query = new URLSearchParams();
      for (const name of Object.keys(filterOptions)) {
        const v = (values as Record<string, unknown>)[name];
        if (typeof v === 'string') query.set(name, v);
      }
      const qs = query.toString();
      const r = await call(f, target, ROUTES.alertList.method, ROUTES.alertList.path, undefined, qs ? `?${qs}` : '');
      if (r.status !== 200) return failed(r);
      const alerts = r.json.alerts as AlertJson[];
      return { code: 0, stdout: values.json ? `${JSON.stringify(r.json)}\n` : alertsTable(alerts, nowMs), stderr: r.json.truncated ? 'tocsin: more alerts fire than one answer holds; narrow with filters\n' : '' };
    }
    if (command === 'history') {
      const [subject, ...more] = positionals;
      if (!subject || more.length > 0) throw new UsageError('history needs exactly one SUBJECT (e.g. check/web-1/service:web)');
      const r = await call(f, target, ROUTES.history.method, ROUTES.history.path, undefined, `?subject=${encodeURIComponent(subject)}`);
      if (r.status !== 200) return failed(r);
      return { code: 0, stdout: values.json ? `${JSON.stringify(r.json)}\n` : historyText(subject, r.json.history as Array<{ at: string; events: Event[] }>, r.json.summary as Record<string, unknown>), stderr: '' };
    }
    const [id, ...more] = positionals;
    if (!id || more.length > 0) throw new UsageError(`${command} needs exactly one alert ID (from tocsin alerts)`);
    if (!ALERT_REF_PATTERN.test(id)) throw new UsageError(`"${id}" is not an alert ID (12 characters, from tocsin alerts)`);
    if (command === 'unack') {
      if (values.comment || values.until || values.by) throw new UsageError('unack takes no --comment, --until or --by');
      const r = await call(f, target, ROUTES.alertUnack.method, ROUTES.alertUnack.path.replace('{id}', id), {});
      if (r.status !== 200) return failed(r);
      return { code: 0, stdout: values.json ? `${JSON.stringify(r.json)}\n` : `${id} no longer acknowledged${r.json.note ? ` (${String(r.json.note)})` : ''}\n`, stderr: '' };
    }
    let untilSeconds: number | undefined;
    if (values.until !== undefined) {
      untilSeconds = parseDuration(values.until);
      if (untilSeconds === undefined || untilSeconds < 1) throw new UsageError(`--until "${values.until}" is not a duration (e.g. 30m, 4h, 2d)`);
    }
    const body = { by: values.by ?? env.USER ?? env.LOGNAME ?? undefined, ...(values.comment ? { comment: values.comment } : {}), ...(untilSeconds ? { untilSeconds } : {}) };
    const r = await call(f, target, ROUTES.alertAck.method, ROUTES.alertAck.path.replace('{id}', id), body);
    if (r.status !== 200) return failed(r);
    const ack = r.json.ack as { by: string; until?: string };
    return { code: 0, stdout: values.json ? `${JSON.stringify(r.json)}\n` : `${id} acknowledged by ${ack.by}${ack.until ? ` until ${ack.until}` : ''}\n`, stderr: '' };
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { code: 64, stdout: '', stderr: `tocsin: ${(err as Error).message}\n\n${ALERTS_USAGE}` };
    }
    return { code: 69, stdout: '', stderr: `tocsin: ${(err as Error).message}\n` };
  }
}


/** Entry point from bin/tocsin-cli.ts. */
export function alertsMain(command: AlertCommand, argv: string[]): void {
  emit(runAlertCommand(command, argv));
}
