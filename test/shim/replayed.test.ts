/**
 * The API refuses a second use of a signature (401 `replayed`). A shim sees that only for
 * bytes the API already accepted - an earlier attempt whose answer it missed, resent in the
 * same second - so it counts the envelope as delivered instead of refusing credentials.
 */
import * as path from 'node:path';
import { classify } from '../../agent-shim/src/transport';
import { consulEnv, ensureBuilt, queued, runShim, startApi, tempDir, type FakeApi } from './helpers';

const replayed = { status: 401, body: { error: 'replayed', message: 'signature already used (replayed request); sign every request afresh' } };

describe('401 replayed', () => {
  it('classify: replayed is delivered; any other 401 is refused credentials', () => {
    expect(classify(401, 'Unauthorized', Buffer.from(JSON.stringify(replayed.body)))).toEqual({ kind: 'sent', status: 401 });
    expect(classify(401, 'Unauthorized', Buffer.from('{"error":"unauthenticated","message":"signature mismatch"}'))).toMatchObject({ kind: 'rejected', auth: true });
    expect(classify(401, 'Unauthorized', Buffer.from('replayed'))).toMatchObject({ kind: 'rejected', auth: true });
  });

  describe('with the built shim', () => {
    let api: FakeApi;
    beforeAll(async () => {
      ensureBuilt();
      api = await startApi();
    }, 60_000);
    afterAll(async () => {
      await api.close();
    });

    it('a spooled envelope answered "replayed" leaves the spool without going to rejected/, and the rest follows', async () => {
      const spool = tempDir();
      api.reply = () => 503;
      expect((await runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, spool), stdin: '[]\n' })).code).toBe(0);
      expect(queued(spool)).toHaveLength(1);
      const before = api.requests.length;
      api.reply = (n) => (n === before ? replayed : 200);
      const run = await runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, spool, { CONSUL_INDEX: '43' }), stdin: '[]\n' });
      expect(run.code).toBe(0);
      expect(run.stderr).not.toMatch(/refused|rejected/i);
      expect(queued(spool)).toEqual([]);
      expect(queued(path.join(spool, 'rejected'))).toEqual([]);
      expect(api.requests.length - before).toBe(2); // the spooled one (replayed) and the new one
    });
  });
});
