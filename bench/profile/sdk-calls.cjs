// Preload for the pipeline process: counts AWS SDK calls by client and command, with their
// mean wall time and the most in flight at once; written at exit to
// TOCSIN_SDK_CALLS_DIR/sdk-calls-<pid>.json. (lib-dynamodb's commands run their inner
// DynamoDB command without client.send, so each call is counted once.) Each DynamoDB call is
// also counted by kind: its key's sort-key prefix (up to the first '#': `s` a subject record,
// `alert` an index entry, `h` a history item, `scope`, ...) and, for BatchWriteItem, its
// puts and deletes by prefix, so calls per event can be split by what they write.
const fs = require('node:fs');
const path = require('node:path');
const { isMainThread } = require('node:worker_threads');

const dir = process.env.TOCSIN_SDK_CALLS_DIR;
if (dir && isMainThread) {
  const { Client } = require(require.resolve('@smithy/core/client', { paths: [process.cwd()] }));
  const calls = {};
  let inFlight = 0;
  let peak = 0;
  const kinds = {};
  const prefix = (key) => (key && typeof key.sk === 'string' ? key.sk.split('#')[0] : key && typeof key.pk === 'string' ? `pk:${key.pk.split('#')[0]}` : '?');
  const kindOf = (input) => {
    if (!input) return undefined;
    if (input.Key) return prefix(input.Key);
    if (input.Item) return prefix(input.Item);
    if (input.RequestItems) {
      const parts = new Map();
      for (const reqs of Object.values(input.RequestItems)) {
        if (!Array.isArray(reqs)) continue; // BatchGet: { Keys }
        for (const r of reqs) {
          const k = r.PutRequest ? `put ${prefix(r.PutRequest.Item)}` : r.DeleteRequest ? `delete ${prefix(r.DeleteRequest.Key)}` : '?';
          parts.set(k, (parts.get(k) || 0) + 1);
        }
      }
      return parts.size > 0 ? [...parts.keys()].sort().join(' + ') : undefined;
    }
    return undefined;
  };
  const send = Client.prototype.send;
  Client.prototype.send = function countedSend(command, ...rest) {
    const key = `${this.constructor.name}.${command.constructor.name}`;
    const c = (calls[key] ??= { n: 0, ms: 0 });
    c.n++;
    const kind = kindOf(command.input);
    if (kind !== undefined) {
      const byKind = (kinds[key] ??= {});
      byKind[kind] = (byKind[kind] || 0) + 1;
    }
    const started = process.hrtime.bigint();
    peak = Math.max(peak, ++inFlight);
    const out = send.call(this, command, ...rest);
    if (out && typeof out.then === 'function') {
      out.then(() => 0, () => 0).finally(() => {
        inFlight--;
        c.ms += Number(process.hrtime.bigint() - started) / 1e6;
      });
    }
    return out;
  };
  process.on('exit', () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `sdk-calls-${process.pid}.json`), JSON.stringify({ peakInFlight: peak, calls, kinds }, null, 1));
  });
}
