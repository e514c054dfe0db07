/**
 * Embedded dynalite for `npm start` and the tests, in a worker thread, reached without
 * sockets.
 *
 * Why (bench figure 6, README "Benchmarks"): with dynalite in the pipeline's own event
 * loop and the AWS SDK talking to it over loopback HTTP, each DynamoDB call cost the
 * loop ~0.65 ms of CPU, of which ~0.45 ms was the HTTP round trip (client and server side)
 * and ~0.2 ms the SDK itself; dynalite's validation, expression parsing and LevelDB calls
 * came on top. Here dynalite runs in a worker thread (the second core), and the SDK's
 * requests reach it as messages: `DynaliteRequestHandler` is the SDK's HTTP handler
 * (the `requestHandler` client option), posting each signed request to the worker, which
 * hands it to dynalite's own request listener (DIRECT DISPATCH: no socket, no HTTP
 * parsing) and posts the answer back. The SDK still builds, signs and checks every
 * request and answer exactly as against DynamoDB; only the transport differs.
 *
 * The worker also listens on 127.0.0.1 (a random port), so that the printed endpoint
 * serves other DynamoDB clients (the AWS CLI, a test reading the table) as before.
 */
import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
// Types only: the SDK's own interfaces for an HTTP handler (a dependency of every client).
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler } from '@smithy/types';

/** What the worker is asked (one SDK request) and what it answers. */
interface WireRequest {
  id: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}
interface WireResponse {
  id: number;
  status?: number;
  headers?: Record<string, string>;
  /** dynalite answers JSON text. */
  body?: string;
  error?: string;
}

/**
 * TABLE CACHE: dynalite reads the table's description from LevelDB (a hop to libuv's
 * pool, a JSON decode) at the start of every item operation; under bench figure 6 that was
 * ~17% of the worker's time, for a description that changes only when a table is created,
 * updated or deleted. The worker keeps the ACTIVE descriptions that item operations read
 * (`getTable(name, cb)`; table operations, which pass `checkStatus` false and may change what
 * they get, still read LevelDB), and forgets them all whenever the table store is written
 * (put, del, batch: when the write starts and when it ends, so that a read overlapping a
 * write is not kept). dynalite has no option for this: its store is wrapped as
 * `db.create` returns it, dynalite's files unchanged. If a dynalite version lays its store
 * out differently, the worker runs without the cache and says so (`tableCache` false in
 * its first message; test/integration/dynalite-worker.test.ts fails then).
 */
const TABLE_CACHE_SOURCE = `
const dynaliteDb = require(require('node:path').join(require('node:path').dirname(workerData.dynalite), 'db'));
let tableCache = false;
let itemCache = false;
const createStore = dynaliteDb.create;
dynaliteDb.create = function (options) {
  const store = createStore.apply(this, arguments);
  tableCache = cacheTableDescriptions(store);
  itemCache = cacheWrittenValues(store);
  return store;
};
function cacheTableDescriptions(store) {
  const tableDb = store && store.tableDb, getTable = store && store.getTable;
  if (typeof getTable !== 'function' || !tableDb || !['put', 'del', 'batch', 'get'].every((m) => typeof tableDb[m] === 'function')) return false;
  const active = new Map();
  let generation = 0;
  const forget = () => { generation++; active.clear(); };
  for (const method of ['put', 'del', 'batch']) {
    const write = tableDb[method];
    tableDb[method] = function (...args) {
      forget();
      const last = args.length - 1;
      if (typeof args[last] === 'function') { const done = args[last]; args[last] = function () { forget(); return done.apply(this, arguments); }; }
      return write.apply(this, args);
    };
  }
  store.getTable = function (name, checkStatus, cb) {
    if (typeof checkStatus !== 'function') return getTable.apply(this, arguments);
    cb = checkStatus;
    const known = active.get(name);
    if (known) return process.nextTick(cb, null, known);
    const seen = generation;
    return getTable.call(this, name, (err, table) => {
      if (!err && table && table.TableStatus === 'ACTIVE' && seen === generation) active.set(name, table);
      cb(err, table);
    });
  };
  return true;
}
`;

/**
 * ITEM CACHE: every item operation of dynalite reads the item from LevelDB first (the
 * old item a condition, an update or ReturnValues needs, or GetItem's answer): a hop to
 * libuv's pool, often a block read back from LevelDB's files and decompressed. Under bench
 * figure 6 that was ~20% of the worker's time, for items the same worker wrote moments
 * before. The worker keeps the JSON text of the value it last wrote under each key of
 * dynalite's store (all its tables, items and indexes go through that one store's put, del
 * and batch) and answers a `get` of that key from it, parsed afresh as LevelDB's JSON
 * encoding would. A key is forgotten when a write of it starts; it is kept again only when
 * that write succeeded with no other write of the same key under way meanwhile (writes of
 * one key that overlap may land in either order, so none of them is kept). Reads are never
 * kept: a value is known only from a write that has landed. Queries and scans read LevelDB
 * as before. At most 32 M characters are kept, the oldest forgotten first. Gone when the
 * worker ends: after a restart the cache fills as items are written again. If dynalite's
 * store is not what this expects, the worker runs without it (`itemCache` false).
 */
const ITEM_CACHE_SOURCE = `
function cacheWrittenValues(store) {
  const db = store && store.db;
  if (!db || !['get', 'put', 'del', 'batch'].every((m) => typeof db[m] === 'function')) return false;
  const { get, put, del, batch } = db;
  const MAX_CHARS = 32 * 1024 * 1024;
  const kept = new Map();
  const writing = new Map();
  const overlapped = new Set();
  let chars = 0;
  const forget = (key) => {
    const text = kept.get(key);
    if (text !== undefined) { chars -= text.length; kept.delete(key); }
  };
  const forgetAll = () => { kept.clear(); chars = 0; };
  const begin = (ops) => ops.map((op) => {
    if (typeof op.key !== 'string') { forgetAll(); return undefined; }
    forget(op.key);
    const n = (writing.get(op.key) || 0) + 1;
    writing.set(op.key, n);
    if (n > 1) overlapped.add(op.key);
    // The text LevelDB's JSON encoding writes, taken now as it does (the value may change after the call).
    return { key: op.key, text: op.type === 'put' ? JSON.stringify(op.value) : undefined };
  });
  const end = (started, ok) => {
    for (const w of started) {
      if (!w) continue;
      const n = writing.get(w.key) - 1;
      if (n > 0) { writing.set(w.key, n); continue; }
      writing.delete(w.key);
      const clean = !overlapped.delete(w.key);
      if (ok && clean && w.text !== undefined && !blind) {
        kept.set(w.key, w.text);
        chars += w.text.length;
        for (const [k, t] of kept) { if (chars <= MAX_CHARS) break; kept.delete(k); chars -= t.length; }
      }
    }
  };
  const tracked = (write, ops) => function (...args) {
    const started = begin(ops(args));
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const done = args[last];
      args[last] = function (err) { end(started, !err); return done.apply(this, arguments); };
      try { return write.apply(this, args); } catch (err) { end(started, false); throw err; }
    }
    let result;
    try { result = write.apply(this, args); } catch (err) { end(started, false); throw err; }
    if (result && typeof result.then === 'function') result.then(() => end(started, true), () => end(started, false));
    else end(started, false);
    return result;
  };
  db.put = tracked(put, (a) => [{ type: 'put', key: a[0], value: a[1] }]);
  db.del = tracked(del, (a) => [{ type: 'del', key: a[0] }]);
  // A chained batch (no array) writes keys this cannot see: then nothing is kept from there on.
  let blind = false;
  db.batch = tracked(batch, (a) => {
    if (!Array.isArray(a[0])) { blind = true; forgetAll(); return []; }
    return a[0].map((op) => (op && op.type === 'put' ? op : { type: 'del', key: op && op.key }));
  });
  db.get = function (key, cb) {
    const open = !(store.lifecycleManager && store.lifecycleManager.getState() === 'closed') && db.status === 'open';
    if (open && typeof key === 'string' && typeof cb === 'function' && arguments.length === 2) {
      const text = kept.get(key);
      if (text !== undefined) { setImmediate(cb, null, JSON.parse(text)); return; }
    }
    return get.apply(this, arguments);
  };
  return true;
}
`;

/**
 * EXPRESSION CACHE: dynalite parses every ConditionExpression, UpdateExpression and
 * ProjectionExpression with a PEG parser that backtracks at each parenthesis; under bench
 * figure 6 that was more than half of the worker's time (a scope's watermark condition,
 * `(attribute_not_exists(watermark) OR watermark <= :w) AND (...) AND ...`, ~0.5 ms a parse)
 * for the same few expressions again and again. The worker keeps each successful parse,
 * keyed by the expression, its ExpressionAttributeNames and the TYPE of each of its
 * ExpressionAttributeValues (all a parse checks of a value, except BETWEEN's bounds and
 * attribute_type's type name: expressions with those are not kept). A kept parse is
 * handed out as a copy with this request's value objects in place of the ones it was parsed
 * with, and marks as used the same names and values a parse would (dynalite reports the
 * unused ones as errors): what dynalite validates and evaluates is unchanged. Errors are
 * never kept (each request parses and fails as before). Kept: at most 1,000 parses, then
 * forgotten all at once. If dynalite's parsers are not where this expects them, the worker
 * runs without the cache and says so (`expressionCache` false in its first message).
 */
const EXPRESSION_CACHE_SOURCE = `
function cacheExpressionParses() {
  const dir = require('node:path').join(require('node:path').dirname(workerData.dynalite), 'db');
  const parsers = ['conditionParser', 'updateParser', 'projectionParser'].map((name) => { try { return require(require('node:path').join(dir, name)); } catch { return undefined; } });
  if (!parsers.every((p) => p && typeof p.parse === 'function')) return false;
  class ValueRef { constructor(name) { this.name = name; } }
  const copy = (node, swap) => {
    const swapped = swap(node);
    if (swapped !== undefined) return swapped;
    if (Array.isArray(node)) return node.map((n) => copy(n, swap));
    if (node === null || typeof node !== 'object') return node;
    const out = Object.create(Object.getPrototypeOf(node));
    for (const k of Object.keys(node)) out[k] = copy(node[k], swap);
    return out;
  };
  const MAX = 1000;
  let kept = new Map();
  for (const parser of parsers) {
    const parse = parser.parse;
    parser.parse = function (input, options) {
      const context = options && options.context;
      if (typeof input !== 'string' || !context || /between|attribute_type/i.test(input)) return parse.apply(this, arguments);
      const names = context.attrNames || {};
      const vals = context.attrVals || {};
      const types = Object.keys(vals).map((k) => k + '=' + (vals[k] && typeof vals[k] === 'object' ? Object.keys(vals[k]).join(',') : typeof vals[k]));
      const key = parsers.indexOf(parser) + '\\u0000' + input + '\\u0000' + JSON.stringify(names) + '\\u0000' + types.join('\\u0001');
      let entry = kept.get(key);
      if (!entry) {
        // Parsed against every name and value as unused, so that what it uses is known whatever was parsed before.
        const unusedNames = Object.fromEntries(Object.keys(names).map((k) => [k, true]));
        const unusedVals = Object.fromEntries(Object.keys(vals).map((k) => [k, true]));
        const result = parse.call(this, input, Object.assign({}, options, { context: Object.assign({}, context, { unusedAttrNames: unusedNames, unusedAttrVals: unusedVals }) }));
        const byValue = new Map(Object.keys(vals).filter((k) => vals[k] && typeof vals[k] === 'object').map((k) => [vals[k], k]));
        entry = {
          template: copy(result, (n) => (byValue.has(n) ? new ValueRef(byValue.get(n)) : undefined)),
          usedNames: Object.keys(names).filter((k) => !(k in unusedNames)),
          usedVals: Object.keys(vals).filter((k) => !(k in unusedVals)),
        };
        if (kept.size >= MAX) kept = new Map();
        kept.set(key, entry);
      }
      for (const k of entry.usedNames) if (context.unusedAttrNames) delete context.unusedAttrNames[k];
      for (const k of entry.usedVals) if (context.unusedAttrVals) delete context.unusedAttrVals[k];
      return copy(entry.template, (n) => (n instanceof ValueRef ? vals[n.name] : undefined));
    };
  }
  return true;
}
const expressionCache = cacheExpressionParses();
`;

/**
 * DIRECT DISPATCH: a posted request is handed to dynalite's own request listener (the one
 * its HTTP server calls, with all its checks: method, content type, target, authorization
 * header, body size, JSON, then each action's validation) as a request and a response that
 * have only what that listener uses: the request's method, url and headers (names lower
 * case, as Node's HTTP server gives them), its body as one 'data' chunk and 'end', and
 * removeAllListeners; the response's statusCode, setHeader and end. Under bench figure 6,
 * light-my-request, which built a whole IncomingMessage and ServerResponse for each request,
 * was ~12% of the worker's time. Should a dynalite version use more of them, the call fails
 * with a TypeError naming what is missing (test/integration/dynalite-worker.test.ts goes
 * through every kind of answer the listener gives).
 */
const DIRECT_DISPATCH_SOURCE = `
const { EventEmitter } = require('node:events');
class PostedRequest extends EventEmitter {
  constructor(m) {
    super();
    this.method = m.method;
    this.url = m.path;
    const headers = {};
    for (const name of Object.keys(m.headers)) headers[name.toLowerCase()] = m.headers[name];
    this.headers = headers;
  }
}
class PostedResponse {
  constructor(done) { this.statusCode = 200; this.done = done; this.ended = false; this.answerHeaders = {}; }
  setHeader(name, value) { this.answerHeaders[String(name).toLowerCase()] = String(value); return this; }
  getHeader(name) { return this.answerHeaders[String(name).toLowerCase()]; }
  end(body) {
    if (this.ended) return this;
    this.ended = true;
    this.done(this.statusCode, this.answerHeaders, body === undefined || body === null ? '' : String(body));
    return this;
  }
}
`;

/**
 * BATCHING: a message between threads costs the sender a serialisation and, when the
 * receiver sleeps, a wake-up; under load that was ~10% of the event loop's time at one
 * message per request. Requests (and answers) made during one turn of the event loop
 * therefore travel as one message, sent from setImmediate: no timer, no added wait
 * beyond the current turn.
 *
 * The worker, as CommonJS source (it needs no TypeScript loader): dynalite's server,
 * listening on loopback, and its request listener fed with the posted requests (DIRECT
 * DISPATCH).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${DIRECT_DISPATCH_SOURCE}
${TABLE_CACHE_SOURCE}
${ITEM_CACHE_SOURCE}
${EXPRESSION_CACHE_SOURCE}
const server = require(workerData.dynalite)(workerData.options);
const dispatch = server.listeners('request')[0];
// Answers go back in batches, one message per turn of the event loop (see BATCHING).
let answers = [];
const answer = (a) => {
  if (answers.length === 0) setImmediate(() => { const batch = answers; answers = []; parentPort.postMessage(batch); });
  answers.push(a);
};
const serve = (m) => {
  let answered = false;
  const res = new PostedResponse((status, headers, body) => {
    answered = true;
    answer({ id: m.id, status, headers, body });
  });
  const req = new PostedRequest(m);
  dispatch(req, res);
  // dynalite's listener subscribed to the body's events just now; a body arrives as one chunk.
  const body = m.body instanceof Uint8Array ? Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength) : typeof m.body === 'string' ? Buffer.from(m.body, 'utf8') : undefined;
  if (body && body.length > 0) req.emit('data', body);
  if (!answered) req.emit('end');
};
parentPort.on('message', (m) => {
  if (m === 'stop') {
    server.close((err) => {
      parentPort.postMessage({ stopped: true, error: err ? err.message : undefined });
      parentPort.close();
    });
    return;
  }
  for (const request of m) serve(request);
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port, tableCache, itemCache, expressionCache }));
`;

export interface RunningDynalite {
  /** Loopback HTTP endpoint of the same dynalite (other clients, the banner). */
  endpoint: string;
  /** Whether the worker keeps table descriptions (TABLE CACHE); false: this dynalite's store is laid out differently. */
  tableCache: boolean;
  /** Whether the worker answers reads of what it wrote from memory (ITEM CACHE); false: this dynalite's store is laid out differently. */
  itemCache: boolean;
  /** Whether the worker keeps expression parses (EXPRESSION CACHE); false: this dynalite's parsers are elsewhere. */
  expressionCache: boolean;
  /** The SDK's transport to it without sockets: give it as the client's `requestHandler`. */
  requestHandler: DynaliteRequestHandler;
  stop(): Promise<void>;
}

/** Raised for a request the worker could not answer (it stopped, or dynalite threw). */
export class DynaliteUnavailable extends Error {
  override readonly name = 'DynaliteUnavailable';
}

/**
 * An HTTP handler for the AWS SDK that posts each request to the dynalite worker. Only
 * dynalite's routes exist there: the request's host and port are not looked at.
 */
export class DynaliteRequestHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  private nextId = 1;
  private outgoing: WireRequest[] = [];
  private readonly waiting = new Map<number, { resolve: (r: { response: HttpResponse }) => void; reject: (e: Error) => void }>();
  private closed: string | undefined;

  /** `worker`: the dynalite worker (startDynalite), or anything that talks like it. */
  constructor(private readonly worker: Pick<Worker, 'on' | 'postMessage'>) {
    worker.on('message', (batch: WireResponse[]) => {
      if (!Array.isArray(batch)) return;
      for (const m of batch) {
        const w = this.waiting.get(m.id);
        if (!w) continue;
        this.waiting.delete(m.id);
        if (m.error !== undefined) w.reject(new DynaliteUnavailable(`dynalite: ${m.error}`));
        else w.resolve({ response: { statusCode: m.status as number, headers: m.headers ?? {}, body: Buffer.from(m.body ?? '', 'utf8') } });
      }
    });
  }

  /** Fails every request still waiting, and every later one. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = reason;
    for (const w of this.waiting.values()) w.reject(new DynaliteUnavailable(reason));
    this.waiting.clear();
  }

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    if (this.closed) return Promise.reject(new DynaliteUnavailable(this.closed));
    if (options.abortSignal?.aborted) return Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    const id = this.nextId++;
    const query = request.query ? new URLSearchParams(request.query as Record<string, string>).toString() : '';
    const body = request.body as unknown;
    if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return Promise.reject(new TypeError('dynalite worker: a streamed request body is not supported'));
    }
    const wire: WireRequest = { id, method: request.method, path: `${request.path}${query ? `?${query}` : ''}`, headers: request.headers, body: ownBytes(body) };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.send(wire);
    });
  }

  /** Queues a request for this turn's message (BATCHING). */
  private send(wire: WireRequest): void {
    if (this.outgoing.length === 0) {
      setImmediate(() => {
        const batch = this.outgoing;
        this.outgoing = [];
        if (this.closed) for (const r of batch) this.fail(r.id, this.closed);
        else this.worker.postMessage(batch);
      });
    }
    this.outgoing.push(wire);
  }

  private fail(id: number, reason: string): void {
    this.waiting.get(id)?.reject(new DynaliteUnavailable(reason));
    this.waiting.delete(id);
  }

  updateHttpClientConfig(): void {
    // No options: there is no connection to configure.
  }

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    // The worker belongs to startDynalite's caller (stop()).
  }
}

/**
 * The request body as the message carries it. The SDK's JSON body is a view into Node's
 * shared 8 KB buffer pool, and a message copies a view's whole ArrayBuffer: under bench
 * figure 6, 8 KB per request for bodies of ~600 bytes (66 MB in 12 s), allocated again in
 * the worker. A view into a larger buffer is copied to its own bytes first.
 */
export function ownBytes<T extends string | Uint8Array | undefined>(body: T): T | Uint8Array {
  if (!(body instanceof Uint8Array) || body.byteLength === body.buffer.byteLength) return body;
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice();
}

/**
 * Starts dynalite in a worker thread; persisted under `path` when given, in memory otherwise.
 * An error inside the worker after it started is not caught here: like an uncaught
 * exception of dynalite in the main thread would, it ends the process.
 */
export async function startDynalite(path?: string): Promise<RunningDynalite> {
  if (path) mkdirSync(path, { recursive: true });
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      dynalite: require.resolve('dynalite'),
      options: { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(path ? { path } : {}) },
    },
  });
  const { port, tableCache, itemCache, expressionCache } = await new Promise<{ port: number; tableCache: boolean; itemCache: boolean; expressionCache: boolean }>((resolve, reject) => {
    const failed = (err: Error) => reject(new Error(`dynalite did not start${path ? ` on ${path}` : ''}: ${err.message}`));
    worker.once('error', failed);
    worker.once('exit', (code) => failed(new Error(`its worker exited with code ${code}`)));
    worker.once('message', (m: { port: number; tableCache: boolean; itemCache: boolean; expressionCache: boolean }) => {
      worker.off('error', failed);
      worker.removeAllListeners('exit');
      resolve(m);
    });
  });
  const requestHandler = new DynaliteRequestHandler(worker);
  let stopped: Promise<void> | undefined;
  worker.once('exit', (code) => requestHandler.close(stopped ? 'dynalite was stopped' : `the dynalite worker exited (code ${code})`));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    tableCache,
    itemCache,
    expressionCache,
    requestHandler,
    stop: () =>
      (stopped ??= new Promise<void>((resolve, reject) => {
        worker.on('message', (m: { stopped?: boolean; error?: string }) => {
          if (!m.stopped) return;
          requestHandler.close('dynalite was stopped');
          if (m.error) reject(new Error(`dynalite did not stop cleanly: ${m.error}`));
          else void worker.terminate().then(() => resolve(), reject);
        });
        worker.postMessage('stop');
      })),
  };
}
