// Preload for the pipeline process (TOCSIN_BENCH_PIPELINE_NODE_OPTIONS="--require <this file>"):
// CPU-profiles each thread (the event loop and the dynalite worker) from TOCSIN_PROFILE_FROM
// to TOCSIN_PROFILE_TO seconds after start (default 5 to 13: the load phase of a 12 s run),
// written to TOCSIN_PROFILE_DIR as <thread>-<pid>.cpuprofile. Summarise with layers.cjs.
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');
const { isMainThread, threadId } = require('node:worker_threads');

const dir = process.env.TOCSIN_PROFILE_DIR;
if (dir) {
  const from = Number(process.env.TOCSIN_PROFILE_FROM || 5) * 1000;
  const to = Number(process.env.TOCSIN_PROFILE_TO || 13) * 1000;
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  setTimeout(() => {
    session.post('Profiler.start');
    setTimeout(() => {
      session.post('Profiler.stop', (err, result) => {
        if (err) return;
        fs.mkdirSync(dir, { recursive: true });
        const name = isMainThread ? 'main' : `worker${threadId}`;
        fs.writeFileSync(path.join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      });
    }, to - from).unref();
  }, from).unref();
}
