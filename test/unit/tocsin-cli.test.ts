import { apiBase, consulHcl, DEFAULT_OPTIONS, serfEventHandler, shellQuote } from '../../bin/cli/agent-config';
import { builtCli } from '../support/built-cli';
import { CONSUL_WATCH_TYPES } from '../../lambdas/domain/types';

/** The bundle npx tocsin runs (rebuilt first if a source changed). */
const { runCli } = builtCli();

const ENV = {}; // not the test runner's TOCSIN_* variables
const cli = (...argv: string[]) => runCli(argv, ENV);

type Watch = { type: string; args?: string[]; handler_type?: string; http_handler_config?: { path: string; method: string; header: Record<string, string[]>; timeout: string } } & Record<string, unknown>;
const watchesOf = (stdout: string): Watch[] => (JSON.parse(stdout) as { watches: Watch[] }).watches;

/** Structural HCL check without an HCL parser: balanced brackets outside strings, `key = value` lines. */
function assertHclShape(hcl: string): void {
  let depth = 0;
  const stripped = hcl.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const c of stripped) {
    if (c === '{' || c === '[') depth++;
    if (c === '}' || c === ']') depth--;
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(depth).toBe(0);
  expect(stripped.startsWith('watches = [')).toBe(true);
  for (const line of stripped.split('\n').map((l) => l.trim()).filter(Boolean)) {
    expect(line).toMatch(/^([A-Za-z_][A-Za-z0-9_-]*\s*=\s*.+|[{}\]],?|\},?)$/);
  }
}

describe('tocsin consul-config', () => {
  it('--format json: a valid Consul config file with a script watch for every type', () => {
    const out = cli('consul-config', '--format', 'json', '--cluster', 'prod', '--url', 'https://t.example/v1/ingest');
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const watches = watchesOf(out.stdout);
    expect(watches.map((w) => w.type)).toEqual([...CONSUL_WATCH_TYPES]);
    for (const w of watches) {
      expect(w.args).toEqual(['/usr/local/bin/tocsin-shim', '--watch', w.type, '--config', '/etc/tocsin/shim.json']);
      expect(w.handler_type).toBeUndefined();
    }
    expect(watches.find((w) => w.type === 'key')).toMatchObject({ key: DEFAULT_OPTIONS.key });
    expect(watches.find((w) => w.type === 'keyprefix')).toMatchObject({ prefix: DEFAULT_OPTIONS.prefix });
    expect(watches.find((w) => w.type === 'service')).toMatchObject({ service: 'web' });
    expect(watches.find((w) => w.type === 'agent_service')).toMatchObject({ service_id: 'web' });
  });

  it('--format json --handler http: Consul http handlers on /v1/consul/<type>?cluster=, bearer token header', () => {
    const out = cli('consul-config', '--format', 'json', '--handler', 'http', '--cluster', 'prod', '--url', 'https://t.example/base/', '--token', 'T0K');
    const watches = watchesOf(out.stdout);
    expect(watches).toHaveLength(CONSUL_WATCH_TYPES.length);
    for (const w of watches) {
      expect(w.handler_type).toBe('http');
      expect(w.args).toBeUndefined();
      expect(w.http_handler_config).toEqual({
        path: `https://t.example/base/v1/consul/${w.type}?cluster=prod`,
        method: 'POST',
        header: { Authorization: ['Bearer T0K'] },
        timeout: '10s',
      });
    }
  });

  it('--node adds the X-Tocsin-Node header the http route reads', () => {
    const watches = watchesOf(cli('consul-config', '--format', 'json', '--handler', 'http', '--types', 'checks', '--node', 'web-1').stdout);
    expect(watches[0]?.http_handler_config?.header).toEqual({ Authorization: ['Bearer <token>'], 'X-Tocsin-Node': ['web-1'] });
  });

  it.each(['script', 'http'])('--format hcl --handler %s names every type and is well-formed', (handler) => {
    const out = cli('consul-config', '--format', 'hcl', '--handler', handler);
    expect(out.code).toBe(0);
    assertHclShape(out.stdout);
    const types = [...out.stdout.matchAll(/^\s*type\s+= "([a-z_]+)"$/gm)].map((m) => m[1]);
    expect(types).toEqual([...CONSUL_WATCH_TYPES]);
    if (handler === 'http') {
      expect(out.stdout.match(/handler_type\s+= "http"/g)).toHaveLength(CONSUL_WATCH_TYPES.length);
      expect(out.stdout).toContain('Authorization = ["Bearer <token>"]');
      expect(out.stdout).toContain('path    = "https://tocsin.example.com/v1/consul/checks?cluster=default"');
    } else {
      expect(out.stdout).toContain('args = ["/usr/local/bin/tocsin-shim", "--watch", "checks", "--config", "/etc/tocsin/shim.json"]');
    }
  });

  it('HCL escapes quotes and backslashes like JSON', () => {
    const hcl = consulHcl({ ...DEFAULT_OPTIONS, types: ['key'], key: 'we"ird\\key' }, 'script');
    expect(hcl).toContain('key  = "we\\"ird\\\\key"');
    assertHclShape(hcl);
  });

  it('without --format: both handler types in JSON and HCL, the shim config and the Serf line', () => {
    const out = cli('consul-config', '--types', 'checks,event', '--shim-path', '/opt/tocsin/shim', '--cluster', 'eu1');
    expect(out.code).toBe(0);
    const text = out.stdout;
    // Every JSON block in the text parses.
    const blocks = text.split('\n').reduce<{ blocks: string[]; cur: string[] | undefined }>(
      (acc, line) => {
        if (line === '{') acc.cur = [line];
        else if (acc.cur) {
          acc.cur.push(line);
          if (line === '}') {
            acc.blocks.push(acc.cur.join('\n'));
            acc.cur = undefined;
          }
        }
        return acc;
      },
      { blocks: [], cur: undefined },
    ).blocks;
    const parsed = blocks.map((b) => JSON.parse(b) as Record<string, unknown>);
    const consul = parsed.filter((p) => 'watches' in p) as Array<{ watches: Watch[] }>;
    expect(consul).toHaveLength(2);
    expect(consul[0]!.watches.map((w) => [w.type, w.args?.[0]])).toEqual([
      ['checks', '/opt/tocsin/shim'],
      ['event', '/opt/tocsin/shim'],
    ]);
    expect(consul[1]!.watches.map((w) => w.http_handler_config?.path)).toEqual([
      'https://tocsin.example.com/v1/consul/checks?cluster=eu1',
      'https://tocsin.example.com/v1/consul/event?cluster=eu1',
    ]);
    expect(parsed.find((p) => 'spoolDir' in p)).toEqual({ url: 'https://tocsin.example.com/v1/ingest', cluster: 'eu1', key: '<cluster signing key>', spoolDir: '/var/spool/tocsin' });
    expect(parsed.find((p) => 'event_handlers' in p)).toEqual({ event_handlers: ['/opt/tocsin/shim --config /etc/tocsin/shim.json'] });
    expect(text.match(/^watches = \[/gm)).toHaveLength(2);
    expect(text).toContain("serf agent -event-handler '/opt/tocsin/shim --config /etc/tocsin/shim.json'");
  });

  it('takes the URL and cluster from TOCSIN_URL / TOCSIN_CLUSTER (what npm start prints)', () => {
    const out = runCli(['consul-config', '--format', 'json', '--handler', 'http', '--types', 'nodes'], { TOCSIN_URL: 'http://127.0.0.1:8787/v1/ingest', TOCSIN_CLUSTER: 'dev' });
    expect(watchesOf(out.stdout)[0]?.http_handler_config?.path).toBe('http://127.0.0.1:8787/v1/consul/nodes?cluster=dev');
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown watch type', ['consul-config', '--types', 'checks,bogus'], /unknown watch type "bogus"/],
    ['an unknown format', ['consul-config', '--format', 'yaml'], /--format must be json or hcl/],
    ['--handler without --format', ['consul-config', '--handler', 'http'], /--handler needs --format/],
    ['a bad cluster name', ['consul-config', '--cluster', 'no spaces'], /--cluster/],
    ['a bad URL', ['consul-config', '--url', 'ftp://x'], /--url/],
    ['an unknown option', ['consul-config', '--nope'], /Unknown option/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ])('refuses %s with exit 64 and the usage', (_name, argv, message) => {
    const out = cli(...argv);
    expect(out.code).toBe(64);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
    expect(out.stderr).toContain('Usage: tocsin');
  });

  it('help', () => {
    expect(cli().stdout).toContain('consul-config');
    expect(cli('--help')).toMatchObject({ code: 0 });
  });
});

describe('tocsin serf-config', () => {
  it('prints the -event-handler line', () => {
    const out = cli('serf-config');
    expect(out.stdout).toContain("serf agent -event-handler '/usr/local/bin/tocsin-shim --config /etc/tocsin/shim.json'");
  });

  it('adds the "*=" filter when the command contains "=" (Serf splits at the first "=")', () => {
    expect(serfEventHandler({ shimPath: '/opt/s', shimConfig: '/etc/a=b.json' })).toBe('*=/opt/s --config /etc/a=b.json');
    expect(serfEventHandler({ shimPath: '/opt/s', shimConfig: '/etc/t.json' })).toBe('/opt/s --config /etc/t.json');
  });

  it('shell-quotes paths with spaces or quotes', () => {
    expect(shellQuote('/opt/my tools/shim')).toBe("'/opt/my tools/shim'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('/usr/bin/x')).toBe('/usr/bin/x');
  });
});

describe('apiBase', () => {
  it.each([
    ['https://t.example', 'https://t.example'],
    ['https://t.example/', 'https://t.example'],
    ['https://t.example/v1/ingest', 'https://t.example'],
    ['https://t.example/prod/v1/ingest/', 'https://t.example/prod'],
  ])('%s', (url, base) => expect(apiBase(url)).toBe(base));
});
