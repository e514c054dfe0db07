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
  /**
   * Which key signed (domain/signing.ts keyId: a fingerprint, not the key). Not signed
   * itself: it only lets the API tell a key it does not hold (yet) from a bad signature.
   */
  keyId: 'x-tocsin-key-id',
} as const;

/**
 * The answer of both signed APIs (ingest, silences) to a second use of a signature. Its own
 * error code: the shim takes it as "delivered" (the API accepted these exact bytes before);
 * the CLI signs again in the next second.
 */
export const REPLAYED = { status: 401, error: 'replayed', message: 'signature already used (replayed request); sign every request afresh' } as const;

/**
 * Refusals a sender outlives, each with its own error code (every other refused signature
 * is 401 `unauthenticated`, which no retry cures). The shim keeps such an envelope in its
 * spool and resends it later instead of moving it to rejected/.
 *
 * CLOCK_SKEW: the signed timestamp is more than LIMITS.signatureWindowSeconds away from the
 * API's clock. Every answer of the signed APIs carries a `Date` header from the clock that
 * checked the window: the sender corrects its clock by it and signs again.
 */
export const CLOCK_SKEW = {
  status: 401,
  error: 'clock_skew',
  message: "timestamp outside the signature window of the API's clock; sign again with the time of this answer's Date header",
} as const;

/**
 * UNKNOWN_KEY: the request names (HEADERS.keyId) a key the cluster does not hold: during a
 * key rotation, a node that has the new key before the API does (or keeps the old one after
 * the API dropped it); otherwise a wrong key. Without a key id a wrong key is a bad signature.
 */
export const UNKNOWN_KEY = {
  status: 401,
  error: 'unknown_key',
  message: "the cluster holds no key with this key id (yet): a key rotation under way, or a wrong key; resend once the API's secret lists the key",
} as const;

/** Limits shared by the shim, the local runner and the API. */
export const LIMITS = {
  /**
   * Largest request body on the wire: the bytes sent, compressed or not. In AWS the body
   * travels inside the Lambda invocation event, and a synchronous invocation's payload is
   * at most 6 MB = 6,291,456 bytes for the whole event JSON
   * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). A gzip body
   * (BODY_TYPES.compressed, binary) is in it as base64: 4 characters per 3 bytes, so
   * 4 MiB = 4,194,304 bytes are 5,592,408 characters, which leaves 699,048 bytes for the
   * rest of the event: headers (an HTTP API takes at most 10,240 bytes of request line and
   * headers, https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html;
   * at most twice that once JSON-escaped) and requestContext (~1 KB). The HTTP API's own
   * payload limit (10 MB, same page) is never the binding one.
   * test/unit/wire-limits.test.ts builds that event and measures it.
   */
  maxWireBytes: 4 * 1024 * 1024,
  /**
   * Largest envelope the API parses, in plain (inflated) JSON bytes: gzip bodies are
   * inflated only this far (a gzip bomb gets 413, not an out-of-memory death). Chosen from
   * the ingest Lambda's memory (lib/ingest-api.ts, 512 MB): parsing an envelope peaks at
   * about 5.3 times its size (the JSON text, its body string, the parsed watch result and
   * the observations; measured with 30,000 to 100,000 checks), so 32 MiB peak at ~180 MB
   * over the runtime's own ~80 MB, leaving room for the processing that follows.
   * docs/ARCHITECTURE.md "Big datacenters on the wire".
   */
  maxInflatedBytes: 32 * 1024 * 1024,
  /** Accepted clock skew for signed requests. */
  signatureWindowSeconds: 300,
  /** Deepest array/object nesting accepted in the request JSON and in a handler's JSON body. */
  maxJsonDepth: 32,
  /** envelope.env: variables, and characters per value (the event name variables excepted). */
  maxEnvVars: 64,
  maxEnvValueChars: 4096,
  /**
   * Longest Serf user event or query name (UTF-8 bytes), and so the longest value of
   * SERF_USER_EVENT / SERF_QUERY_NAME: Serf's own hard cap on a user event's name + payload
   * (9 KB; its default limits are 512 bytes for events and 1,024 for a whole query, both
   * configurable, queries up to a UDP packet). What Serf can send, tocsin accepts.
   */
  maxSerfEventNameBytes: 9 * 1024,
} as const;

/** Handler variables that carry a Serf event or query name (LIMITS.maxSerfEventNameBytes). */
export const SERF_NAME_VARIABLES = ['SERF_USER_EVENT', 'SERF_QUERY_NAME'] as const;

/**
 * Content types of the shim's request bodies. A gzip body goes as binary: an HTTP API's
 * Lambda proxy event (payload format 2.0) carries a body API Gateway considers binary as
 * base64 (`isBase64Encoded: true`), any other as text; HTTP APIs have no binaryMediaTypes
 * setting and decide by the content type alone. Sent as text, a gzip body's invalid UTF-8
 * is replaced and its signature fails. docs/ARCHITECTURE.md "Request bodies on the wire";
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export const BODY_TYPES = {
  /** Uncompressed envelope JSON (a text type: delivered as text). */
  json: 'application/json',
  /** Gzip-compressed envelope JSON, with `Content-Encoding: gzip` (a binary type: delivered base64). */
  compressed: 'application/octet-stream',
} as const;

/**
 * The API's answer to a body the transport altered before it arrived (a gzip body labelled
 * application/json, delivered by API Gateway as text: shims before BODY_TYPES.compressed).
 */
export const BODY_ALTERED = {
  status: 400,
  error: 'body_altered_in_transit',
  message:
    'the gzip body arrived as text with its binary bytes replaced (labelled application/json, so API Gateway delivered it as text); the request cannot be recovered: upgrade tocsin-shim, which labels compressed bodies application/octet-stream, then move the envelope from rejected/ back into the spool',
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
  /**
   * The operator's view (README "What is firing"): signed with the cluster's ADMIN key, or for
   * GETs its read-only VIEWER key. `{id}`: the alert's id (12 base64url characters of its subject).
   */
  alertList: { method: 'GET', path: '/v1/alerts' },
  alertGet: { method: 'GET', path: '/v1/alerts/{id}' },
  /** Body `{"by"?, "comment"?, "untilSeconds"?}`; admin key only. */
  alertAck: { method: 'POST', path: '/v1/alerts/{id}/ack' },
  alertUnack: { method: 'POST', path: '/v1/alerts/{id}/unack' },
  /** Query `subject=<subject>`: its history within the retention. */
  history: { method: 'GET', path: '/v1/history' },
  /**
   * Slack's interactivity Request URL (the buttons of app channels' messages, README "Slack
   * actions"): signed by Slack with the app's signing secret, not by a tocsin key.
   */
  slackInteractions: { method: 'POST', path: '/v1/slack/interactions' },
  /**
   * The web page (README "The web page"), unauthenticated: it holds no data, and signs every
   * request it makes in the browser with the key the operator enters. `npm start` also serves it at `/`.
   */
  webPage: { method: 'GET', path: '/ui' },
  /** The page's script and style sheet (`{asset}`: WEB_PAGE.assets). */
  webPageAsset: { method: 'GET', path: '/ui/{asset}' },
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
  /**
   * Largest body this route takes: Consul's http handler cannot compress, and in AWS the
   * body travels as JSON text inside the Lambda event (application/json: not base64),
   * which is limited to 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
   * Escaping a Go-encoded watch body at most doubles it (every byte a quote or a
   * backslash), so half of 6 MiB, less 64 KiB for the headers and request context, always
   * fits. A `checks` result is 330 to 600 bytes a check with short outputs (docs/consul.md
   * "Consul's own http handler: size"): about 5,000 to 9,000 checks; near Consul's 4 KB
   * output cap, about 650.
   */
  maxBodyBytes: 3 * 1024 * 1024 - 64 * 1024,
} as const;
