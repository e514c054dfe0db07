/**
 * An HTTP API Lambda proxy event (payload format 2.0) as the transport-neutral HttpRequest.
 * What API Gateway does to a request before the function sees it, per
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html:
 * header names arrive lower-cased, repeated headers joined with commas; `rawPath` is the
 * path as sent (no stage prefix on the $default stage); the body is a string, base64
 * (`isBase64Encoded: true`) when the request's content type is binary, else the text
 * itself. HTTP APIs have no binaryMediaTypes setting: text is text/*, application/json,
 * application/xml and application/javascript; other types, and none, come as base64.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpRequest, HttpResponse } from '../app/http';

/** U+FFFD: what replaced each invalid UTF-8 sequence of a binary body delivered as text. */
const REPLACEMENT_CHARACTER = '\uFFFD';

export function toHttpRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  // Lower-case already from API Gateway; lowered again for hand-built events (tests, console).
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const raw = event.body ?? '';
  const body = Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8');
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers,
    query: event.queryStringParameters ?? {},
    body,
    // Gzip (header 1f 8b, never valid UTF-8) delivered as text: its bytes are gone. A gzip
    // body that arrives as base64, whatever its content type (an older shim's
    // application/json), is intact and accepted.
    ...(!event.isBase64Encoded && isGzip(headers['content-encoding']) && raw.includes(REPLACEMENT_CHARACTER) ? { bodyAltered: true } : {}),
  };
}

function isGzip(encoding: string | undefined): boolean {
  return (encoding ?? '').trim().toLowerCase() === 'gzip';
}

/** The handler's answer as the function's result (payload format 2.0; a JSON body, or the page's text, as text). */
export function toApiGatewayResult(res: HttpResponse, nowMs: number): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: res.status,
    // API Gateway adds its own Date too; both come from AWS's synchronised clocks, the one
    // the signature window is checked with (protocol.ts CLOCK_SKEW).
    headers: { 'content-type': 'application/json', ...res.headers, date: new Date(nowMs).toUTCString() },
    body: res.text ?? JSON.stringify(res.body),
  };
}
