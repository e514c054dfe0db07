// Preload for the pipeline process: counts AWS SDK calls by client and command, with their
// mean wall time and the most in flight at once; written at exit to
// TOCSIN_SDK_CALLS_DIR/sdk-calls-<pid>.json. (lib-dynamodb's commands run their inner
// DynamoDB command without client.send, so each call is counted once.)
const fs = require('node:fs');
const path = require('node:path');
const { isMainThread } = require('node:worker_threads');

const dir = process.env.TOCSIN_SDK_CALLS_DIR;
if (dir && isMainThread) {
  const { Client } = require(require.resolve('@smithy/core/client', { paths: [process.cwd()] }));
  const calls = {};
  let inFlight = 0;
  let peak = 0;
  const send = Client.prototype.send;
  Client.prototype.send = function countedSend(command, ...rest) {
    const key = `${this.constructor.name}.${command.constructor.name}`;
    const c = (calls[key] ??= { n: 0, ms: 0 });
    c.n++;
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
    fs.writeFileSync(path.join(dir, `sdk-calls-${process.pid}.json`), JSON.stringify({ peakInFlight: peak, calls }, null, 1));
  });
}
