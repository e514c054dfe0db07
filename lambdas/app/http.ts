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
  /**
   * Set by a transport adapter that can tell the body was altered before it arrived (an
   * API Gateway text delivery of a gzip body): the request is refused with BODY_ALTERED.
   */
  bodyAltered?: boolean;
  /** What the transport allows for the answer, when it says (a Lambda's remaining time, ms, when the request arrived). */
  remainingMs?: number;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
  /**
   * A body that is not JSON (the web page's HTML, script and style sheet): sent as is, as
   * text, with the content-type of `headers`; `body` is then not sent.
   */
  text?: string;
}
