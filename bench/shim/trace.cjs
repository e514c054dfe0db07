// Preloaded into a shim process by the bench (node -r): when did it finish booting, send
// its request, get the answer, exit? Printed to fd 3 as one JSON line. Bench only.
const http = require('node:http');
const fs = require('node:fs');
const t = () => performance.now();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const marks = {};
process.stdin.once('end', () => {
  marks.stdinEnd = t();
  marks.stdinEndCpu = cpu();
});
const request = http.request;
http.request = function (...args) {
  if (marks.request === undefined) {
    marks.request = t();
    marks.requestCpu = cpu();
  }
  const req = request.apply(this, args);
  req.once('response', () => {
    if (marks.response === undefined) {
      marks.response = t();
      marks.responseCpu = cpu();
    }
  });
  return req;
};
process.once('exit', () => {
  marks.exit = t();
  marks.exitCpu = cpu();
  marks.bootstrap = performance.nodeTiming.bootstrapComplete;
  try {
    fs.writeSync(3, JSON.stringify(marks) + '\n');
  } catch {
    /* no fd 3 */
  }
});
