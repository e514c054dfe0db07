/**
 * The default spool directory: /var/spool/tocsin when writable, else a private
 * per-user directory under the temp dir. Exercised as an unprivileged user so the
 * test never touches /var/spool; skipped where that cannot be arranged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLUSTER, KEY, deadPort, ensureBuilt, queued, runShim, tempDir } from './helpers';

const NOBODY = 65534;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let varSpoolWritable = false;
try {
  fs.accessSync('/var/spool', fs.constants.W_OK);
  varSpoolWritable = true;
} catch {
  /* expected for non-root */
}
// As root we drop to "nobody"; otherwise we can only test if /var/spool is closed to us.
const asUser = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
const uid = isRoot ? NOBODY : (process.getuid?.() ?? -1);
const testable = isRoot || !varSpoolWritable;

beforeAll(() => ensureBuilt());

(testable ? describe : describe.skip)('default spool directory', () => {
  function sharedTmp(): string {
    const dir = tempDir();
    fs.chmodSync(dir, 0o1777); // like /tmp
    return dir;
  }

  it('falls back to <tmpdir>/tocsin-spool-<uid>, created private', async () => {
    const tmp = sharedTmp();
    const url = `http://127.0.0.1:${await deadPort()}/v1/ingest`;
    const r = await runShim({ ...asUser, args: ['--watch', 'checks'], env: { TMPDIR: tmp, TOCSIN_URL: url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY }, stdin: '[]\n' });
    expect(r.code).toBe(0);
    const spool = path.join(tmp, `tocsin-spool-${uid}`);
    expect(r.stderr).toContain(`spooled as ${spool}/`);
    expect(queued(spool)).toHaveLength(1);
    expect(fs.statSync(spool).mode & 0o777).toBe(0o700);
  });

  (isRoot ? it : it.skip)('refuses a fallback directory owned by someone else', async () => {
    const tmp = sharedTmp();
    fs.mkdirSync(path.join(tmp, `tocsin-spool-${uid}`), { mode: 0o777 });
    fs.chmodSync(path.join(tmp, `tocsin-spool-${uid}`), 0o777);
    const r = await runShim({ ...asUser, args: ['--watch', 'checks'], env: { TMPDIR: tmp, TOCSIN_URL: 'http://127.0.0.1:1/v1/ingest', TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY }, stdin: '[]\n' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('not a private directory owned by this user; set TOCSIN_SPOOL_DIR');
  });
});
