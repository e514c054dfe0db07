/**
 * An HTTP exchange as the transport-neutral APIs (ingest, silences) see it: API Gateway
 * (lambdas/functions) and the local server (local/) both adapt their requests to these.
 */
export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Query string parameters (the Consul HTTP handler route reads `cluster` and `scope`). */
  query?: Record<string, string | undefined>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}
