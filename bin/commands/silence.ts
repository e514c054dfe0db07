/**
 * `tocsin silence add|list|expire`: the silence API, signed with the cluster's admin
 * key like the shim signs envelopes (admin-client.ts).
 */
import { parseArgs } from 'node:util';
import { ROUTES } from '../../lambdas/domain/protocol';
import { describeMatchers, matchersFromArgs, SilenceError, type Silence } from '../../lambdas/domain/rules/silences';
import { apiBase, call, emit, failed, formatTable, UsageError, type CliOutput, type Fetch } from './admin-client';
import { keyList } from '../../lambdas/domain/signing';

export const SILENCE_USAGE = `Usage: tocsin silence <add|list|expire> [options]

  tocsin silence add --match FIELD=VALUE [--match ...] (--duration 2h | --until TIME)
                     --comment TEXT [--author NAME] [--starts TIME]
      Mute every notification whose facts match all matchers, until the end time.
      FIELD=VALUE exact, FIELD!=VALUE, FIELD=~REGEX, FIELD!~REGEX; a value with * or ?
      is a glob (node=web-*). Fields: source kind node service check checkName status
      from to severity tags event payload flapping nodeMeta.KEY serviceMeta.KEY
      (flapping=true: FLAPPING notices).
  tocsin silence list [--all] [--json]
      Active and pending silences of the cluster (--all: expired ones too).
  tocsin silence expire ID
      End a silence now.

Options (and environment):
  --url URL          tocsin API: the ingest URL or its base ($TOCSIN_URL)
  --cluster NAME     the cluster ($TOCSIN_CLUSTER); a silence applies to this cluster only
  --admin-key KEY    the cluster's ADMIN key, not the shim key ($TOCSIN_ADMIN_KEY; deployed:
                     aws ssm get-parameter --name <ClusterAdminSecretPrefix><cluster>
                       --with-decryption --query Parameter.Value --output text)
`;

export type SilenceCliOutput = CliOutput;

function table(silences: Array<Silence & { state?: string }>): string {
  if (silences.length === 0) return 'no silences\n';
  const rows = silences.map((s) => [s.id, s.state ?? '', s.endsAt, s.author, describeMatchers(s.matchers), s.comment.replace(/\s+/g, ' ').slice(0, 60)]);
  return formatTable(['ID', 'STATE', 'ENDS', 'AUTHOR', 'MATCHERS', 'COMMENT'], rows);
}

export async function runSilence(argv: string[], env: NodeJS.ProcessEnv = process.env, f: Fetch = fetch): Promise<SilenceCliOutput> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        cluster: { type: 'string' },
        'admin-key': { type: 'string' },
        match: { type: 'string', multiple: true },
        duration: { type: 'string' },
        until: { type: 'string' },
        starts: { type: 'string' },
        comment: { type: 'string' },
        author: { type: 'string' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [sub, ...rest] = positionals;
    if (values.help || sub === undefined || sub === 'help') return { code: 0, stdout: SILENCE_USAGE, stderr: '' };
    const url = values.url ?? env.TOCSIN_URL;
    const cluster = values.cluster ?? env.TOCSIN_CLUSTER;
    const key = values['admin-key'] ?? env.TOCSIN_ADMIN_KEY;
    if (!url) throw new UsageError('--url or TOCSIN_URL is required');
    if (!cluster) throw new UsageError('--cluster or TOCSIN_CLUSTER is required');
    if (!key) throw new UsageError("--admin-key or TOCSIN_ADMIN_KEY is required (the cluster's admin key)");
    // As stored in the admin secret: during a key rotation it lists the new key first.
    const target = { base: apiBase(url), cluster, key: keyList(key)[0] ?? key };

    if (sub === 'add') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      if (!values.match?.length) throw new UsageError('silence add needs at least one --match FIELD=VALUE');
      if (!values.comment) throw new UsageError('silence add needs --comment (why, for the people who will wonder)');
      if ((values.duration === undefined) === (values.until === undefined)) throw new UsageError('silence add needs --duration or --until (one of them)');
      const body: Record<string, unknown> = {
        matchers: matchersFromArgs(values.match),
        comment: values.comment,
        author: values.author ?? env.USER ?? env.LOGNAME ?? 'unknown',
        ...(values.duration !== undefined ? { duration: values.duration } : {}),
        ...(values.until !== undefined ? { endsAt: values.until } : {}),
        ...(values.starts !== undefined ? { startsAt: values.starts } : {}),
      };
      const r = await call(f, target, ROUTES.silenceCreate.method, ROUTES.silenceCreate.path, body);
      if (r.status !== 201) return failed(r);
      const s = r.json.silence as Silence;
      return { code: 0, stdout: values.json ? `${JSON.stringify(s)}\n` : `${s.id}\n`, stderr: `silenced ${describeMatchers(s.matchers)} in ${s.cluster} until ${s.endsAt}\n` };
    }
    if (sub === 'list') {
      const r = await call(f, target, ROUTES.silenceList.method, ROUTES.silenceList.path, undefined, values.all ? '?all=1' : '');
      if (r.status !== 200) return failed(r);
      const list = r.json.silences as Array<Silence & { state?: string }>;
      return { code: 0, stdout: values.json ? `${JSON.stringify(list)}\n` : table(list), stderr: '' };
    }
    if (sub === 'expire') {
      const [id, ...more] = rest;
      if (!id || more.length > 0) throw new UsageError('silence expire needs exactly one silence ID');
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new UsageError(`"${id}" is not a silence ID`);
      const r = await call(f, target, ROUTES.silenceExpire.method, ROUTES.silenceExpire.path.replace('{id}', id));
      if (r.status !== 200) return failed(r);
      const s = r.json.silence as Silence;
      return { code: 0, stdout: values.json ? `${JSON.stringify(s)}\n` : `${s.id} ended at ${s.endsAt}${r.json.note ? ` (${String(r.json.note)})` : ''}\n`, stderr: '' };
    }
    throw new UsageError(`unknown silence command "${sub}"`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof SilenceError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      return { code: 64, stdout: '', stderr: `tocsin: ${(err as Error).message}\n\n${SILENCE_USAGE}` };
    }
    return { code: 69, stdout: '', stderr: `tocsin: ${(err as Error).message}\n` };
  }
}

/** Entry point from bin/tocsin-cli.ts. */
export function silenceMain(argv: string[]): void {
  emit(runSilence(argv));
}
