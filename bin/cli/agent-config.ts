/**
 * Ready-to-paste agent configuration for operators: Consul watch definitions (script
 * handler with the shim, or Consul's own http handler type) in JSON and HCL, and the
 * Serf event handler. Pure: options in, text out.
 */
import { CONSUL_HTTP, ROUTES } from '../../lambdas/domain/protocol';
import { CONSUL_WATCH_TYPES, type ConsulWatchType } from '../../lambdas/domain/types';

export type HandlerKind = 'script' | 'http';

export interface AgentConfigOptions {
  /** Base URL of the tocsin API, without a path (a trailing /v1/ingest is accepted and dropped). */
  url: string;
  cluster: string;
  shimPath: string;
  /** JSON config file the shim reads (url, cluster, key ...). */
  shimConfig: string;
  types: readonly ConsulWatchType[];
  /** Bearer token placeholder for the http handler type. */
  token: string;
  /** http handler type only: the node name to report (Consul cannot fill it in per agent). */
  node?: string;
  /** Parameters of the watch types that need one. */
  service: string;
  key: string;
  prefix: string;
}

export const DEFAULT_OPTIONS: AgentConfigOptions = {
  url: 'https://tocsin.example.com',
  cluster: 'default',
  shimPath: '/usr/local/bin/tocsin-shim',
  shimConfig: '/etc/tocsin/shim.json',
  types: CONSUL_WATCH_TYPES,
  token: '<token>',
  service: 'web',
  key: 'app/config',
  prefix: 'app/',
};

/** The API base: scheme, host and any path prefix, without the ingest route or a trailing slash. */
export function apiBase(url: string): string {
  let base = url.trim().replace(/\/+$/, '');
  if (base.endsWith(ROUTES.ingest.path)) base = base.slice(0, -ROUTES.ingest.path.length);
  return base.replace(/\/+$/, '');
}

/** Watch-type parameters (`key`, `prefix`, `service`, `service_id`) each type requires. */
export function watchParameters(type: ConsulWatchType, o: Pick<AgentConfigOptions, 'service' | 'key' | 'prefix'>): Record<string, string> {
  switch (type) {
    case 'key':
      return { key: o.key };
    case 'keyprefix':
      return { prefix: o.prefix };
    case 'service':
      return { service: o.service };
    case 'agent_service':
      return { service_id: o.service };
    default:
      return {};
  }
}

export type Watch = Record<string, unknown>;

/** `x-tocsin-node` -> `X-Tocsin-Node` (header names are case-insensitive; this reads better). */
function httpHeaderName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`);
}

export function consulWatches(o: AgentConfigOptions, handler: HandlerKind): Watch[] {
  const base = apiBase(o.url);
  return o.types.map((type) => {
    const watch: Watch = { type, ...watchParameters(type, o) };
    if (handler === 'script') {
      watch.args = [o.shimPath, '--watch', type, '--config', o.shimConfig];
    } else {
      watch.handler_type = 'http';
      watch.http_handler_config = {
        path: `${base}${ROUTES.consulHttp.path.replace('{watchType}', type)}?${CONSUL_HTTP.clusterParam}=${encodeURIComponent(o.cluster)}`,
        method: ROUTES.consulHttp.method,
        header: { Authorization: [`Bearer ${o.token}`], ...(o.node ? { [httpHeaderName(CONSUL_HTTP.nodeHeader)]: [o.node] } : {}) },
        timeout: '10s',
      };
    }
    return watch;
  });
}

/** JSON.stringify with 2-space indent, but arrays of scalars kept on one line. */
export function prettyJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${prettyJson(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const inner = `${indent}  `;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

export function consulJson(o: AgentConfigOptions, handler: HandlerKind): string {
  return `${prettyJson({ watches: consulWatches(o, handler) })}\n`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function hclValue(value: unknown, indent: string): string {
  if (typeof value === 'string') return JSON.stringify(value); // Consul reads HCL 1: JSON string escapes, no interpolation
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return `[${value.map((v) => hclValue(v, indent)).join(', ')}]`;
    const inner = `${indent}  `;
    return `[\n${value.map((v) => `${inner}${hclValue(v, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const inner = `${indent}  `;
    const entries = Object.entries(value as Record<string, unknown>);
    const width = Math.max(...entries.map(([k]) => (IDENT.test(k) ? k : JSON.stringify(k)).length));
    const lines = entries.map(([k, v]) => {
      const key = IDENT.test(k) ? k : JSON.stringify(k);
      return `${inner}${key.padEnd(width)} = ${hclValue(v, inner)}`;
    });
    return `{\n${lines.join('\n')}\n${indent}}`;
  }
  throw new Error(`cannot render ${typeof value} as HCL`);
}

export function consulHcl(o: AgentConfigOptions, handler: HandlerKind): string {
  return `watches = ${hclValue(consulWatches(o, handler), '')}\n`;
}

/** The shim's --config file (the key is a placeholder: `npm start` or the deployment prints the real one). */
export function shimConfigJson(o: AgentConfigOptions): string {
  return `${prettyJson({ url: `${apiBase(o.url)}${ROUTES.ingest.path}`, cluster: o.cluster, key: '<cluster signing key>', spoolDir: '/var/spool/tocsin' })}\n`;
}

/** POSIX shell quoting: Serf runs handlers with /bin/sh -c. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The handler command Serf runs (via /bin/sh -c) for every event. */
export function serfHandlerCommand(o: Pick<AgentConfigOptions, 'shimPath' | 'shimConfig'>): string {
  return `${shellQuote(o.shimPath)} --config ${shellQuote(o.shimConfig)}`;
}

/**
 * The `-event-handler` value. Serf splits it at the FIRST "=" into filter and script
 * (`ParseEventScript`), so a command containing "=" needs the explicit "*=" filter.
 */
export function serfEventHandler(o: Pick<AgentConfigOptions, 'shimPath' | 'shimConfig'>): string {
  const cmd = serfHandlerCommand(o);
  return cmd.includes('=') ? `*=${cmd}` : cmd;
}

export function serfSection(o: AgentConfigOptions): string {
  const cmd = serfHandlerCommand(o);
  const handler = serfEventHandler(o);
  return [
    '# Serf: one handler for every event (member-*, user, query). The shim detects Serf from',
    '# SERF_EVENT, and answers queries at once with a one-line "tocsin: ack" response.',
    `serf agent -event-handler ${shellQuote(handler)} ...`,
    '# or in the Serf agent\'s JSON config file:',
    prettyJson({ event_handlers: [handler] }),
    '# Without query answers (membership and user events only), use a filter:',
    prettyJson({ event_handlers: [`member-join,member-leave,member-failed,member-update,member-reap,user=${cmd}`] }),
    '',
  ].join('\n');
}

/** Everything, with comments: what `tocsin consul-config` prints without --format. */
export function fullText(o: AgentConfigOptions): string {
  const base = apiBase(o.url);
  const out: string[] = [];
  const say = (...lines: string[]) => out.push(...lines);
  say(
    `# tocsin agent configuration for cluster "${o.cluster}" -> ${base}`,
    '# Pick ONE handler type per watch: both would report every change twice.',
    '# Watch types needing a parameter use placeholders: key, prefix, service / service_id.',
    '# A second watch of the same type with other parameters needs its own "--scope NAME".',
    '',
    '## 1. Consul, script handler (recommended): the shim signs, retries and spools.',
    `##    Consul agent config file, e.g. /etc/consul.d/tocsin-watches.json:`,
    consulJson(o, 'script').trimEnd(),
    '##    or as HCL, e.g. /etc/consul.d/tocsin-watches.hcl:',
    consulHcl(o, 'script').trimEnd(),
    `##    The shim's config file ${o.shimConfig} (readable only by the agent's user):`,
    shimConfigJson(o).trimEnd(),
    '',
    '## 2. Consul, http handler type: Consul POSTs the watch JSON itself. One attempt, no',
    '##    retry, no spool: a change is lost while the API is unreachable. The bearer token',
    '##    is a placeholder for the cluster\'s Consul-watch token (`npm start` prints a local one).',
    `##    Alerts name the node "${CONSUL_HTTP.defaultNode}" unless each agent adds its own`,
    `##    ${httpHeaderName(CONSUL_HTTP.nodeHeader)} header (--node NAME); only with it are its POSTs signs of life`,
    `##    (heartbeats). A second watch of one type: add &${CONSUL_HTTP.scopeParam}=NAME to its path.`,
    consulJson(o, 'http').trimEnd(),
    '##    or as HCL:',
    consulHcl(o, 'http').trimEnd(),
    '',
    '## 3. Serf',
    serfSection(o).trimEnd(),
    '',
  );
  return `${out.join('\n')}\n`;
}
