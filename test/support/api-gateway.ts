/**
 * HTTP API (API Gateway v2) Lambda proxy events, payload format 2.0, built the way API
 * Gateway builds them (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
 * lower-cased header names with repeats joined by commas, rawPath and rawQueryString as
 * sent, queryStringParameters absent when there is no query, requestContext.http, and the
 * body as text for text content types or as base64 for every other (HTTP APIs have no
 * binaryMediaTypes: the content type alone decides). And a local "API Gateway" serving
 * such events to a handler, for real clients (the shim) as child processes.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** The media types an HTTP API delivers as text (AWS's list is not published; this is the observed one). */
export function deliveredAsText(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type.startsWith('text/') || ['application/json', 'application/xml', 'application/javascript'].includes(type);
}

export interface RawRequest {
  method: string;
  /** Path and query as sent, e.g. `/v1/consul/checks?cluster=prod`. */
  url: string;
  /** Header names in any case, as a client sent them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Force the delivery (default: by content type, like API Gateway). */
  deliverAs?: 'text' | 'base64';
}

export function apiGatewayEvent(req: RawRequest, nowMs = Date.now()): APIGatewayProxyEventV2 {
  const target = new URL(req.url, 'https://abc123.execute-api.eu-west-1.amazonaws.com');
  const headers: Record<string, string> = {
    host: target.host,
    'x-amzn-trace-id': 'Root=1-5f84c7a9-0e5b1e0a2f2a1c3b4d5e6f70',
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-port': '443',
    'x-forwarded-proto': 'https',
  };
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ['host', 'connection', 'transfer-encoding'].includes(name.toLowerCase())) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of target.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const asText = (req.deliverAs ?? (deliveredAsText(headers['content-type']) ? 'text' : 'base64')) === 'text';
  const time = new Date(nowMs);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString: target.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: target.host,
      domainPrefix: 'abc123',
      http: { method: req.method, path: target.pathname, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: headers['user-agent'] ?? '' },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: '$default',
      stage: '$default',
      time: time.toUTCString(),
      timeEpoch: nowMs,
    },
    isBase64Encoded: !asText,
  };
  if (target.search) event.queryStringParameters = query;
  // A text body is decoded as UTF-8, invalid sequences replaced (what corrupts a binary body sent as text).
  if (req.body.length > 0) event.body = asText ? req.body.toString('utf8') : req.body.toString('base64');
  return event;
}

export interface LocalGateway {
  url: string;
  events: APIGatewayProxyEventV2[];
  close(): Promise<void>;
}

/** An HTTP server that turns each request into a v2 event for `handler`, and its result into the answer. */
export async function startGateway(handler: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>): Promise<LocalGateway> {
  const events: APIGatewayProxyEventV2[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = apiGatewayEvent({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) });
      events.push(event);
      handler(event).then(
        (out) => {
          res.writeHead(out.statusCode ?? 200, { ...(out.headers as Record<string, string>) });
          res.end(out.isBase64Encoded ? Buffer.from(out.body ?? '', 'base64') : (out.body ?? ''));
        },
        () => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"message":"Internal Server Error"}');
        },
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
