import { LIMITS } from '../../lambdas/domain/protocol';
import { CONSUL_WATCH_TYPES } from '../../lambdas/domain/types';

export const HELP = `tocsin-shim - forward Consul watch and Serf event handler invocations to tocsin

USAGE
  tocsin-shim --watch <type> [--scope <name>] [--config FILE] [--timeout-ms N]
      Consul watch handler. Register with the "args" form, e.g.
        {"type": "checks", "args": ["/usr/local/bin/tocsin-shim", "--watch", "checks"]}
  tocsin-shim [--config FILE] [--timeout-ms N]
      Serf event handler (detected from SERF_EVENT), e.g.
        serf agent -event-handler /usr/local/bin/tocsin-shim
  tocsin-shim flush [--config FILE] [--timeout-ms N]
      Send spooled envelopes, oldest first, then exit (for a cron job or systemd timer).
  tocsin-shim heartbeat [--config FILE] [--timeout-ms N]
      Tell tocsin this node can report (a signed "tocsin heartbeat" envelope), then
      flush the spool with the time left. Run it from a systemd timer or cron every
      heartbeats.every of tocsin.yaml (npx tocsin heartbeat-config prints both), as the
      agent's user. Never spooled; not delivered: exit 75 with a line on stderr.

  Each invocation reads all of stdin and the environment, wraps them verbatim in a
  signed envelope and POSTs it to TOCSIN_URL. It first resends anything spooled by
  earlier invocations (oldest first), all within one time bound.

OPTIONS
  --watch <type>     Consul watch type, one of:
                       ${CONSUL_WATCH_TYPES.join(', ')}.
                     Required for Consul; its presence also means "this is Consul"
                     even if SERF_EVENT is set.
  --scope <name>     Tells apart two watches of the same type with different
                     parameters (e.g. two "checks" watches); default: the watch type.
  --config FILE      JSON file with any of: url, cluster, key, node, scope, timeoutMs,
                     spoolDir, spoolMaxBytes, spoolMaxFiles, fullEvery, fullIntervalS.
                     Unknown keys are errors.
  --timeout-ms N     Total time bound for the run (overrides TOCSIN_TIMEOUT_MS).
  --help, -h         This text.
  --version, -V      Print the version.

ENVIRONMENT (overrides the --config file; flags override both)
  TOCSIN_URL              Full ingest URL (required), e.g.
                          https://tocsin.example.com/v1/ingest
  TOCSIN_CLUSTER          Cluster name: 1-63 of A-Z a-z 0-9 . _ - (required)
  TOCSIN_KEY              The cluster's HMAC signing key (required). Prefer a --config
                          file readable only by the agent's user over the environment.
                          Several keys separated by white space (the cluster's secret
                          during a key rotation): the first one signs.
  TOCSIN_NODE             Reporting node name. Default: SERF_SELF_NAME for Serf
                          events, the host name for Consul and heartbeats (set it when
                          the agent's node name differs from the host name: heartbeats
                          and the handlers must report the same name).
  TOCSIN_SCOPE            Same as --scope.
  TOCSIN_TIMEOUT_MS       Total time bound in ms, default 5000. Serf queries use at
                          most 2000 ms so the answer beats Serf's query deadline.
  TOCSIN_SPOOL_DIR        Spool directory. Default /var/spool/tocsin if this user can
                          write it (created when /var/spool allows), else a private
                          <tmpdir>/tocsin-spool-<uid>. Set it explicitly in production,
                          and run "flush" as the same user as the agent.
  TOCSIN_SPOOL_MAX_BYTES  Spool cap in bytes, queued + rejected/ (default 104857600).
  TOCSIN_SPOOL_MAX_FILES  Spool cap in files, queued + rejected/ (default 10000).
  TOCSIN_FULL_EVERY       "checks" watches: send the whole list at least every N sends,
                          deltas in between (default 100; 1 turns deltas off).
  TOCSIN_FULL_INTERVAL_S  "checks" watches: send the whole list at least every N seconds
                          (default 3600).
  NODE_EXTRA_CA_CERTS     (Node.js) extra CA bundle for a private HTTPS endpoint.

WHAT IS SENT
  source "serf" with type = SERF_EVENT, index = SERF_USER_LTIME / SERF_QUERY_LTIME,
  env = SERF_* variables; or source "consul" with type = --watch, index = CONSUL_INDEX
  (as a string), env = CONSUL_* variables. Variables whose names look like credentials
  (TOKEN, AUTH, KEY, SECRET, PASS, CERT...) are never forwarded (SERF_TAG_* excepted).
  stdin is sent as UTF-8 text, or base64 when it is not valid UTF-8. Bodies over 8 KiB
  are gzipped. Every request is signed (HMAC-SHA256) over the bytes actually sent.

CHECKS WATCHES: DELTAS
  Consul hands a "checks" handler the whole list every time. The shim keeps, per
  cluster and scope, each check's ModifyIndex as of its last delivered send in
  <spool>/state/checks+<cluster>+<scope>.state, and sends only the checks that changed
  or appeared and the IDs of those gone, relative to that send (the envelope says
  which). The whole list is sent when that file is missing or unreadable, every
  TOCSIN_FULL_EVERY sends, every TOCSIN_FULL_INTERVAL_S seconds, and whenever the API
  answers a delta with 409 (it lacks the baseline) - in the same run. The file is only
  written after a 2xx; what gets spooled is always the whole list. Deleting the state
  directory is always safe.

DELIVERY AND SPOOL
  2xx                     delivered. Also HTTP 401 "replayed": the API had already
                          accepted these exact bytes (an earlier attempt whose answer
                          was lost, resent within the same second).
  network error, timeout, HTTP 408/425/429/5xx (or an unexpected redirect)
                          the envelope is spooled (atomic write) and resent, re-signed,
                          by the next invocation or by "flush". Flushing stops at the
                          first such failure so order is kept.
  HTTP 401 clock_skew     this host's clock is off by more than ${LIMITS.signatureWindowSeconds} s: the shim takes the
                          API's time from the answer's Date header, signs again at once,
                          and keeps the offset in <spool>/state/clock.json for later
                          runs (any answer's Date moves it when it is over 60 s off).
  HTTP 401 unknown_key    the API does not hold this node's key (yet): a key rotation
                          under way, or a wrong TOCSIN_KEY.
                          These two, when they persist, keep the envelope in the spool:
                          an error line, exit 69, flushing stops, and the next run or
                          "flush" resends it, until the spool limits are reached.
  other HTTP 4xx          never accepted as sent: the API's reason is printed and the
                          envelope is stored in <spool>/rejected/ with a .reason.txt
                          beside it (a bad signature, an unknown cluster, invalid
                          content, a refused type). To resend after fixing the cause,
                          move the .json back into the spool directory and run "flush".
                          On other 401/403 flushing stops and the rest stays queued.
  too large               over ${LIMITS.maxWireBytes / 1048576} MiB sent (gzipped) or ${LIMITS.maxInflatedBytes / 1048576} MiB of JSON, the API's
                          limits: treated like an HTTP 413 without uploading it
                          (exit 65); rejected/ keeps the newest such copy of each
                          watch, too-large+<cluster>+<source>+<type>+<scope>.json.
  spool full              nothing is deleted to make room: the envelope is reported
                          as lost (exit 75).

SERF QUERIES
  For SERF_EVENT=query the shim prints "tocsin: ack <name> ltime=<n>" at once (this is
  the query response), prints nothing else unless it fails, does not flush older
  envelopes, and spools the query if it cannot be sent within min(timeout, 2000 ms).
  A query refused for now (exit 69) is spooled too, but Serf then drops the ack.

EXIT CODES
  0   delivered, or safely spooled for a later retry (a one-line note on stderr)
  64  usage error (unknown option, missing or unknown --watch outside Serf)
  65  the API rejected an envelope (HTTP 4xx); see rejected/
  66  stdin was not closed within the time bound
  69  the API refused an envelope for now (clock skew it could not correct, a key it
      does not hold yet): it is spooled and resent by the next run or "flush"
  70  internal error
  75  an envelope could be neither sent nor spooled (spool full or unwritable) -
      its data is lost; for "flush": envelopes remain queued (API unreachable or
      time bound reached)
  77  the API refused the credentials (HTTP 401/403: bad signature, unknown cluster)
  78  configuration error (missing TOCSIN_URL / TOCSIN_CLUSTER / TOCSIN_KEY, bad value)
`;
