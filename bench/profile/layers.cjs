// node bench/profile/layers.cjs <file.cpuprofile>: where a thread's time went, by layer.
// Each sample goes to the innermost frame on its stack that belongs to a known layer
// (a package, or tocsin's own code); samples with only Node's own frames (HTTP parsing,
// sockets, timers) are counted apart. Then the heaviest functions by self time.
const fs = require('node:fs');
const path = require('node:path');

const profile = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const root = path.resolve(__dirname, '..', '..');
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);

const LAYERS = [
  [/node_modules\/(dynalite|classic-level|abstract-level|level-|big\.js|buffer-crc32|async|lazy)/, 'dynalite (validation, expressions, LevelDB)'],
  [/node_modules\/light-my-request/, 'light-my-request (requests into dynalite)'],
  [/node_modules\/(fauxqs|fastify|@fastify|avvio|find-my-way|pino|ajv|fast-json|fast-uri|secure-json|@aws-sdk\/xml-builder|fast-xml|strnum|toad-cache)/, 'fauxqs (SNS/SQS stand-in)'],
  [/node_modules\/(@smithy|@aws-sdk|@aws-crypto|tslib|uuid|bowser)/, 'AWS SDK (middleware, SigV4, (de)serialisation, its HTTP client)'],
  [/node_modules\/tsx/, 'tsx (TypeScript loader)'],
];
function layerOf(url) {
  if (!url) return undefined;
  for (const [re, name] of LAYERS) if (re.test(url)) return name;
  if (url.includes(`${root}/local/dynalite-worker.ts`)) return 'SDK to dynalite worker transport (messages)';
  if (url.includes(root) && !url.includes('node_modules')) return 'tocsin (handler, app, domain, adapters, local)';
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  return m ? `package ${m[1]}` : undefined;
}
const byLayer = new Map();
const byFunction = new Map();
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] || 0;
  total += dt;
  const leaf = nodes.get(profile.samples[i]).callFrame;
  let layer = ['(idle)', '(garbage collector)', '(program)'].includes(leaf.functionName) ? leaf.functionName : undefined;
  for (let id = profile.samples[i]; !layer && id !== undefined; id = parent.get(id)) layer = layerOf(nodes.get(id).callFrame.url);
  layer ??= 'Node core only (HTTP parsing, sockets, timers, messages)';
  byLayer.set(layer, (byLayer.get(layer) || 0) + dt);
  const fn = `${leaf.functionName || '(anonymous)'} ${leaf.url.replace(/.*node_modules\//, '').replace(root + '/', '')}:${leaf.lineNumber}`;
  byFunction.set(fn, (byFunction.get(fn) || 0) + dt);
}
const busy = total - (byLayer.get('(idle)') || 0);
const show = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, v]) => console.log(`${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / busy).toFixed(1).padStart(5)}% of busy  ${k}`));
console.log(`${(total / 1000).toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy`);
show(byLayer, 20);
console.log('--- heaviest functions (self time)');
show(byFunction, Number(process.argv[3] || 25));
