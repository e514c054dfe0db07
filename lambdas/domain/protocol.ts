/**
 * The wire protocol between the agent shim, the CLI and the API. The shim bundles this
 * module: keep it constants only, importing nothing.
 */

/**
 * Cluster and scope names: they become secret names, env values and spool file name parts,
 * so keep them boring. schema/tocsin.schema.json repeats it (definitions.clusterName; a
 * unit test keeps the two equal).
 */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** HTTP headers of the shim protocol. */
export const HEADERS = {
  cluster: 'x-tocsin-cluster',
  timestamp: 'x-tocsin-timestamp',
  signature: 'x-tocsin-signature',
} as const;

/**
 * The answer of both signed APIs (ingest, silences) to a second use of a signature. Its own
 * error code: the shim takes it as "delivered" (the API accepted these exact bytes before);
 * the CLI signs again in the next second.
 */
export const REPLAYED = { status: 401, error: 'replayed', message: 'signature already used (replayed request); sign every request afresh' } as const;

/** Limits shared by the shim, the local runner and the API. */
export const LIMITS = {
  /** Largest request body the API accepts (after decompression). */
  maxBodyBytes: 6 * 1024 * 1024,
  /** Accepted clock skew for signed requests. */
  signatureWindowSeconds: 300,
  /** Deepest array/object nesting accepted in the request JSON and in a handler's JSON body. */
  maxJsonDepth: 32,
} as const;

/** HTTP API routes. `{watchType}` is a path parameter. */
export const ROUTES = {
  /** Signed envelopes from agent-shim. */
  ingest: { method: 'POST', path: '/v1/ingest' },
  /** Consul's own `handler_type: "http"` watches, bearer-token authenticated. */
  consulHttp: { method: 'POST', path: '/v1/consul/{watchType}' },
  /** Silences, signed with the cluster's ADMIN key (same scheme as the shim). */
  silenceCreate: { method: 'POST', path: '/v1/silences' },
  silenceList: { method: 'GET', path: '/v1/silences' },
  silenceExpire: { method: 'POST', path: '/v1/silences/{id}/expire' },
  /** Heartbeat watchers (`tocsin watchers`), signed with the cluster's ADMIN key like silences. */
  watcherList: { method: 'GET', path: '/v1/watchers' },
  /** Body `{"node": "<name>"}`: a JSON body, not a path segment, since node names are free text. */
  watcherForget: { method: 'POST', path: '/v1/watchers/forget' },
} as const;

/**
 * `tocsin-shim heartbeat`: an envelope of its own kind, source "tocsin", type "heartbeat",
 * with an empty body. It says only "this node's shim can reach tocsin" (docs/heartbeats.md).
 */
export const HEARTBEAT_ENVELOPE = { source: 'tocsin', type: 'heartbeat' } as const;

/** Consul's own HTTP watch handler (ROUTES.consulHttp): the inputs it can send. */
export const CONSUL_HTTP = {
  /** Query parameters: the cluster (or the cluster header) and the watch scope. */
  clusterParam: 'cluster',
  scopeParam: 'scope',
  /** Lower-case headers Consul's http_handler_config can set, and Consul's own index header. */
  clusterHeader: 'x-tocsin-cluster',
  nodeHeader: 'x-tocsin-node',
  indexHeader: 'x-consul-index',
  /** Envelope node when no node header is configured. */
  defaultNode: 'consul-http',
} as const;
