/**
 * In-process stand-ins that are as strict as the real services about what they accept,
 * for tests that throw thousands of hostile inputs at the ingest handler:
 * - StrictMemoryStore: SubjectStore + ScopeStore + ReplayGuard with DynamoDB's limits
 *   (1 KB sort keys, 32 nesting levels, 400 KB items, no lone surrogates);
 * - strictSnsClient: a real SNSClient (the real serializer runs) whose transport checks
 *   SNS's Publish constraints (subject, attributes, 256 KiB) instead of sending.
 * A limit violation throws like the service would, which the handler turns into a 5xx:
 * exactly what the tests look for.
 */
import { Readable } from 'node:stream';
import { SNSClient } from '@aws-sdk/client-sns';
import type {
  PendingEntry,
  ScopeRecord,
  ScopeReset,
  ScopeStore,
  ScopeUpdate,
  SubjectRecord,
  SubjectStore,
  SubjectWrite,
} from '../../lambdas/app/ports';
import type { ReplayGuard } from '../../lambdas/app/signed-request';
import { awsCall } from '../../lambdas/adapters/aws-errors';
import { keys } from '../../lambdas/adapters/dynamo-state-store';
import { storedOutbox } from '../../lambdas/adapters/subject-record-codec';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';

export class ServiceLimitError extends Error {
  constructor(service: string, message: string) {
    super(`${service}: ${message}`);
    this.name = 'ValidationException';
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = value instanceof Set ? [] : Object.values(value as object);
  return 1 + children.reduce<number>((m, v) => Math.max(m, depthOf(v)), 0);
}

function checkStrings(value: unknown): void {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw new ServiceLimitError('DynamoDB', 'string is not valid UTF-16/UTF-8 (lone surrogate)');
  } else if (value instanceof Set) {
    for (const v of value) checkStrings(v);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      checkStrings(k);
      checkStrings(v);
    }
  }
}

/** What DynamoDB would refuse in a PutItem/UpdateItem of this item. */
export function checkDynamoItem(pk: string, sk: string, attributes: Record<string, unknown>): void {
  if (Buffer.byteLength(pk) > 2048) throw new ServiceLimitError('DynamoDB', 'partition key over 2048 bytes');
  if (Buffer.byteLength(sk) > 1024) throw new ServiceLimitError('DynamoDB', 'sort key over 1024 bytes');
  checkStrings({ pk, sk, ...attributes });
  // Top-level attributes are level 0; a map inside one is level 1 ... DynamoDB allows 32.
  if (depthOf(attributes) - 1 > 32) throw new ServiceLimitError('DynamoDB', 'nesting levels beyond the supported limit');
  const size = Buffer.byteLength(JSON.stringify({ pk, sk, ...attributes }, (_k, v: unknown) => (v instanceof Set ? [...v] : v)));
  if (size > 400 * 1024) throw new ServiceLimitError('DynamoDB', 'item size has exceeded the maximum allowed size');
}

interface Item {
  state: unknown;
  rev: number;
  pending?: PendingEntry;
}

/** One in-memory "table": subjects, scopes and replay records, with DynamoDB's limits. */
export class StrictMemoryStore implements SubjectStore, ScopeStore, ReplayGuard {
  readonly subjects = new Map<string, Item>();
  readonly scopes = new Map<string, ScopeRecord>();
  readonly signatures = new Map<string, number>();

  /** It stands in for the DynamoDB adapters: its refusals reach the app mapped like theirs (adapters/aws-errors.ts). */
  private check(pk: string, sk: string, attributes: Record<string, unknown>): Promise<void> {
    return awsCall((async () => checkDynamoItem(pk, sk, attributes))());
  }

  private sk(cluster: string, subject: string): [string, string] {
    return [keys.cluster(cluster), keys.subject(subject)];
  }

  async get<S>(cluster: string, subject: string): Promise<SubjectRecord<S> | undefined> {
    const item = this.subjects.get(this.sk(cluster, subject).join('|'));
    return item ? (structuredClone(item) as SubjectRecord<S>) : undefined;
  }

  async getMany<S>(cluster: string, subjects: string[]): Promise<Map<string, SubjectRecord<S>>> {
    const out = new Map<string, SubjectRecord<S>>();
    for (const s of subjects) {
      const [pk, sk] = this.sk(cluster, s);
      await this.check(pk, sk, {});
      const r = await this.get<S>(cluster, s);
      if (r) out.set(s, r);
    }
    return out;
  }

  async put<S>(cluster: string, subject: string, expectedRev: number | undefined, next: SubjectWrite<S>): Promise<boolean> {
    const [pk, sk] = this.sk(cluster, subject);
    const item: Item = { state: next.state, rev: (expectedRev ?? 0) + 1, ...(next.pending ? { pending: next.pending } : {}) };
    // Checked as plain maps, stricter than the adapter's compressed body: what the domain hands
    // over must stay storable (and publishable) text whatever the encoding.
    const { pending } = next;
    checkDynamoItem(pk, sk, { state: item.state, rev: item.rev, ...(pending ? { pending: { alert: storedOutbox(pending.entry), leaseUntil: pending.leaseUntil }, pendingId: pending.entry.alert.id } : {}) });
    const current = this.subjects.get(`${pk}|${sk}`);
    if (expectedRev === undefined ? current !== undefined : !current || current.rev !== expectedRev || current.pending) return false;
    this.subjects.set(`${pk}|${sk}`, structuredClone(item));
    return true;
  }

  async claimPending(cluster: string, subject: string, alertId: string, nowMs: number, leaseUntil: number): Promise<boolean> {
    const item = this.subjects.get(this.sk(cluster, subject).join('|'));
    if (!item?.pending || item.pending.entry.alert.id !== alertId || item.pending.leaseUntil > nowMs) return false;
    item.pending.leaseUntil = leaseUntil;
    return true;
  }

  async clearPending(cluster: string, subject: string, alertId: string): Promise<void> {
    const item = this.subjects.get(this.sk(cluster, subject).join('|'));
    if (item?.pending?.entry.alert.id === alertId) delete item.pending;
  }

  async getScope(cluster: string, scope: string): Promise<ScopeRecord> {
    const r = this.scopes.get(`${cluster}|${scope}`);
    if (!r) return { watermark: 0, active: new Set() };
    return { watermark: r.watermark, active: new Set(r.active), ...(r.epoch ? { epoch: r.epoch } : {}), ...(r.last ? { last: { ...r.last } } : {}) };
  }

  async updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void> {
    const current = await this.getScope(cluster, scope);
    if (update.watermark < current.watermark || (current.epoch ?? 0) !== (update.epoch ?? 0)) return;
    const active = new Set([...current.active, ...update.addActive]);
    for (const s of update.removeActive) active.delete(s);
    const last = update.last ?? current.last;
    await this.check(keys.cluster(cluster), keys.scope(scope), { watermark: update.watermark, active, ...(last ? { last } : {}) });
    this.scopes.set(`${cluster}|${scope}`, { watermark: update.watermark, active, ...(current.epoch ? { epoch: current.epoch } : {}), ...(last ? { last } : {}) });
  }

  async resetScope(cluster: string, scope: string, reset: ScopeReset): Promise<boolean> {
    const current = await this.getScope(cluster, scope);
    if (current.watermark !== reset.from.watermark || (current.epoch ?? 0) !== reset.from.epoch) return false;
    const active = new Set(reset.active);
    await this.check(keys.cluster(cluster), keys.scope(scope), { watermark: reset.watermark, epoch: reset.epoch, active, last: reset.last });
    this.scopes.set(`${cluster}|${scope}`, { watermark: reset.watermark, active, epoch: reset.epoch, last: { ...reset.last } });
    return true;
  }

  async firstUse(cluster: string, signature: string, expiresAtSeconds: number): Promise<boolean> {
    const key = `${keys.replay(cluster)}|${keys.signature(signature)}`;
    await this.check(keys.replay(cluster), keys.signature(signature), { expiresAt: expiresAtSeconds });
    if (this.signatures.has(key)) return false;
    this.signatures.set(key, expiresAtSeconds);
    return true;
  }

  async forget(cluster: string, signature: string): Promise<void> {
    this.signatures.delete(`${keys.replay(cluster)}|${keys.signature(signature)}`);
  }
}

export interface StrictSns {
  client: SNSClient;
  /** Alerts SNS accepted, in order. */
  published: Alert[];
  /** Decide per Publish call (0-based) whether SNS answers 500 instead. */
  failWhen: (n: number) => boolean;
}

/** SNS Publish constraints, checked on the form-encoded request the SDK produced. */
function checkPublish(params: URLSearchParams): void {
  const subject = params.get('Subject');
  if (subject !== null) {
    if (subject.length === 0 || subject.length >= 100) throw new ServiceLimitError('SNS', 'Subject must be less than 100 characters');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(subject)) throw new ServiceLimitError('SNS', 'Subject has line breaks or control characters');
  }
  const message = params.get('Message') ?? '';
  let attributeBytes = 0;
  for (const [name, value] of params) {
    if (!name.startsWith('MessageAttributes.')) continue;
    attributeBytes += Buffer.byteLength(value);
    if (name.endsWith('.StringValue')) {
      if (value === '') throw new ServiceLimitError('SNS', `message attribute ${name} is empty`);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(value)) throw new ServiceLimitError('SNS', `message attribute ${name} has invalid characters`);
    }
  }
  if (Buffer.byteLength(message) + attributeBytes > 256 * 1024) throw new ServiceLimitError('SNS', 'message too long');
  if (params.get('MessageStructure') === 'json') {
    const doc = JSON.parse(message) as Record<string, unknown>;
    if (typeof doc.default !== 'string') throw new ServiceLimitError('SNS', 'JSON message has no "default" string');
  }
}

export function strictSnsClient(): StrictSns {
  let n = 0;
  const sns: StrictSns = { client: undefined as unknown as SNSClient, published: [], failWhen: () => false };
  const reply = (statusCode: number, xml: string) => ({
    response: { statusCode, headers: { 'content-type': 'text/xml' }, body: Readable.from([Buffer.from(xml)]) },
  });
  sns.client = new SNSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'strict', secretAccessKey: 'strict' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const call = n++;
        if (sns.failWhen(call)) {
          return reply(
            500,
            '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>injected</Message></Error><RequestId>r</RequestId></ErrorResponse>',
          );
        }
        const params = new URLSearchParams(String(request.body ?? ''));
        try {
          checkPublish(params);
        } catch (err) {
          return reply(
            400,
            `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>${(err as Error).message.replace(/[<&]/g, '')}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
          );
        }
        sns.published.push(alertFromNotification(params.get('Message') ?? '{}'));
        return reply(
          200,
          `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${call}</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`,
        );
      },
    } as never,
  });
  return sns;
}
