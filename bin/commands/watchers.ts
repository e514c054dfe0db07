/**
 * `tocsin watchers [list]` and `tocsin watchers forget CLUSTER NODE`: the heartbeat
 * watchers of a cluster with their last report and state, and retiring one. The watchers
 * API, signed with the cluster's admin key (admin-client.ts).
 */
import { parseArgs } from 'node:util';
import { CLUSTER_NAME_PATTERN, ROUTES } from '../../lambdas/domain/protocol';
import { formatDuration } from '../../lambdas/domain/rules/duration';
import { apiBase, call, emit, failed, formatTable, UsageError, type CliOutput, type Fetch } from './admin-client';

export const WATCHERS_USAGE = `Usage: tocsin watchers [list] [--cluster NAME] [--json]
       tocsin watchers forget CLUSTER NODE

  tocsin watchers [list]
      The cluster's heartbeat watchers (every node that has reported once), their last
      sign of life, their last handler report, and their state: reporting, or missing
      (silent for heartbeats.missingAfter). Also when the sweeper last ran.
  tocsin watchers forget CLUSTER NODE
      Retire a watcher (a node taken out of service): it is no longer expected, and its
      "has not reported" alert, if any, resolves. It is expected again from its next report.

Options (and environment):
  --url URL          tocsin API: the ingest URL or its base ($TOCSIN_URL)
  --cluster NAME     the cluster ($TOCSIN_CLUSTER)
  --admin-key KEY    the cluster's ADMIN key, not the shim key ($TOCSIN_ADMIN_KEY; deployed:
                     aws ssm get-parameter --name <ClusterAdminSecretPrefix><cluster>
                       --with-decryption --query Parameter.Value --output text)
  --json             print the API's JSON
`;

/** The sweeper runs every minute: older than this, nobody is alerted on missing watchers. */
const SWEEPER_LATE_MS = 3 * 60 * 1000;

export interface WatcherRow {
  node: string;
  state: string;
  alertedSince?: string;
  firstSeenAt: string;
  lastSeenAt: string;
  silentForSeconds: number;
  lastReportAt?: string;
  via?: string;
}

interface Listing {
  cluster: string;
  every: string;
  missingAfter: string;
  sweeper: { lastSweepAt: string | null; ok?: boolean };
  watchers: WatcherRow[];
}

function table(list: Listing, nowMs: number): { text: string; warning?: string } {
  const last = list.sweeper.lastSweepAt;
  const ago = last ? nowMs - Date.parse(last) : undefined;
  const sweeper = last ? `sweeper last ran ${last} (${formatDuration(Math.max(0, Math.floor((ago ?? 0) / 1000)))} ago${list.sweeper.ok === false ? ', FAILED' : ''})` : 'the sweeper has never run';
  const head = `cluster ${list.cluster}: heartbeats every ${list.every}, missing after ${list.missingAfter}; ${sweeper}\n`;
  const warning =
    ago === undefined || ago > SWEEPER_LATE_MS || list.sweeper.ok === false
      ? `tocsin: ${ago === undefined ? 'the sweeper has never run' : list.sweeper.ok === false ? 'the last sweep failed' : `the sweeper last ran ${formatDuration(Math.floor(ago / 1000))} ago`}: missing watchers may not be alerted on\n`
      : undefined;
  if (list.watchers.length === 0) return { text: `${head}no watchers yet (a node becomes one with its first report)\n`, ...(warning ? { warning } : {}) };
  const rows = list.watchers.map((w) => [
    w.node,
    w.state === 'missing' && w.alertedSince ? 'MISSING (alerted)' : w.state.toUpperCase(),
    w.lastSeenAt,
    formatDuration(w.silentForSeconds),
    w.lastReportAt ? `${w.lastReportAt}${w.via ? ` ${w.via}` : ''}` : 'none (heartbeats only)',
    w.firstSeenAt,
  ]);
  const table = formatTable(['NODE', 'STATE', 'LAST SEEN', 'SILENT FOR', 'LAST HANDLER REPORT', 'FIRST SEEN'], rows);
  return { text: `${head}${table}`, ...(warning ? { warning } : {}) };
}

export async function runWatchers(argv: string[], env: NodeJS.ProcessEnv = process.env, f: Fetch = fetch): Promise<CliOutput> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        cluster: { type: 'string' },
        'admin-key': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [sub = 'list', ...rest] = positionals;
    if (values.help || sub === 'help') return { code: 0, stdout: WATCHERS_USAGE, stderr: '' };
    let cluster = values.cluster ?? env.TOCSIN_CLUSTER;
    let node: string | undefined;
    if (sub === 'forget') {
      if (rest.length !== 2) throw new UsageError('watchers forget needs CLUSTER and NODE');
      const [named, n] = rest as [string, string];
      if (values.cluster !== undefined && values.cluster !== named) throw new UsageError(`--cluster ${values.cluster} differs from the CLUSTER argument ${named}`);
      cluster = named;
      node = n;
      if (node.length === 0 || node.length > 256) throw new UsageError('NODE must be 1-256 characters');
    } else if (sub !== 'list') {
      throw new UsageError(`unknown watchers command "${sub}"`);
    } else if (rest.length > 0) {
      throw new UsageError(`unexpected argument "${rest[0]}"`);
    }
    const url = values.url ?? env.TOCSIN_URL;
    const key = values['admin-key'] ?? env.TOCSIN_ADMIN_KEY;
    if (!url) throw new UsageError('--url or TOCSIN_URL is required');
    if (!cluster) throw new UsageError('--cluster or TOCSIN_CLUSTER is required');
    if (!CLUSTER_NAME_PATTERN.test(cluster)) throw new UsageError(`"${cluster}" is not a cluster name`);
    if (!key) throw new UsageError("--admin-key or TOCSIN_ADMIN_KEY is required (the cluster's admin key)");
    const target = { base: apiBase(url), cluster, key };

    if (node !== undefined) {
      const r = await call(f, target, ROUTES.watcherForget.method, ROUTES.watcherForget.path, { node });
      if (r.status !== 200) return failed(r);
      const note = r.json.note ? ` (${String(r.json.note)})` : '';
      return {
        code: 0,
        stdout: values.json ? `${JSON.stringify(r.json)}\n` : `forgot watcher ${node} of ${cluster}${r.json.resolved ? '; its missing alert is resolved' : ''}${note}\n`,
        stderr: '',
      };
    }
    const r = await call(f, target, ROUTES.watcherList.method, ROUTES.watcherList.path);
    if (r.status !== 200) return failed(r);
    if (values.json) return { code: 0, stdout: `${JSON.stringify(r.json)}\n`, stderr: '' };
    const { text, warning } = table(r.json as unknown as Listing, Date.now());
    return { code: 0, stdout: text, stderr: warning ?? '' };
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { code: 64, stdout: '', stderr: `tocsin: ${(err as Error).message}\n\n${WATCHERS_USAGE}` };
    }
    return { code: 69, stdout: '', stderr: `tocsin: ${(err as Error).message}\n` };
  }
}

/** Entry point from bin/tocsin-cli.ts. */
export function watchersMain(argv: string[]): void {
  emit(runWatchers(argv));
}
