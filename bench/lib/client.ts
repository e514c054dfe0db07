/** Signed envelopes POSTed in-process over a keep-alive node:http agent (what the shim sends, minus the process). */
import * as http from 'node:http';
import { prepare } from '../../agent-shim/src/transport';
import type { Envelope } from '../../lambdas/domain/types';

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

export class SignedClient {
  readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    url: string,
    private readonly key: string,
    maxSockets = 64,
  ) {
    this.url = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  post(envelope: Envelope): Promise<Reply> {
    const { body, headers } = prepare(envelope, this.key, this.url.pathname, Date.now(), 'tocsin-bench');
    return new Promise((resolve, reject) => {
      const req = http.request(this.url, { method: 'POST', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            /* keep {} */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function checksEnvelope(cluster: string, scope: string, index: number, body: string, delta?: { base: number }): Envelope {
  return {
    v: 1,
    cluster,
    source: 'consul',
    type: 'checks',
    scope,
    node: 'bench-agent',
    index: String(index),
    sentAt: new Date().toISOString(),
    body,
    bodyEncoding: 'utf8',
    ...(delta ? { delta: true, base: String(delta.base) } : {}),
  };
}
