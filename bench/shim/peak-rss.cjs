// Preloaded into a shim process by the bench (node -r): its peak resident set size, written
// to fd 3 as one JSON line as it exits. Bench only.
const fs = require('node:fs');
process.once('exit', () => {
  try {
    fs.writeSync(3, JSON.stringify({ maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
  } catch {
    /* no fd 3 */
  }
});
