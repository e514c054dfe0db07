/**
 * The local runner's message bus (local/bus/bus.ts) on a temp dir: delays, visibility and
 * retries, redrive to a dead-letter queue, the topic's filter policies, and what a reopened
 * store holds. Time is the bus's injected clock, so nothing here waits on a timer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { LocalBus, type BusOptions } from '../../local/bus/bus';
import { checkFilterPolicy } from '../../local/bus/filter-policy';
import { startQueueWorker } from '../../local/queue-worker';
import { openLocalBus } from '../../local/bus/local-bus';

let dir: string;
let now: number;
const open = (opts: BusOptions = {}) => LocalBus.open(dir, { nowMs: () => now, ...opts });
const channels = (...names: string[]) => ({ DataType: 'String.Array' as const, StringValue: JSON.stringify(names) });
const str = (value: string) => ({ DataType: 'String' as const, StringValue: value });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tocsin-bus-'));
  now = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('queues', () => {
  it('a message sent is received once, and is gone once acknowledged', async () => {
    const bus = await open();
    bus.declareQueue('q');
    await bus.send('q', 'hello');
    const [m] = await bus.receive('q');
    expect(m).toMatchObject({ body: 'hello', receiveCount: 1 });
    expect(await bus.receive('q')).toEqual([]); // in flight
    await bus.ack(m!.receipt);
    now += 3_600_000;
    expect(await bus.receive('q')).toEqual([]);
    expect(await bus.list('q')).toEqual([]);
    await bus.close();
  });

  it('a delayed message is invisible until its delay has passed', async () => {
    const bus = await open();
    bus.declareQueue('timers');
    await bus.send('timers', 'later', { delayMs: 6000 });
    await bus.send('timers', 'now');
    expect((await bus.receive('timers')).map((m) => m.body)).toEqual(['now']);
    now += 5999;
    expect(await bus.receive('timers')).toEqual([]);
    now += 1;
    expect((await bus.receive('timers')).map((m) => m.body)).toEqual(['later']);
    await bus.close();
  });

  it('a failed delivery comes back after its retry delay, its receive count up by one', async () => {
    const bus = await open();
    bus.declareQueue('slack', { visibilityTimeoutSeconds: 30 });
    await bus.send('slack', 'post');
    const [first] = await bus.receive('slack');
    await bus.retryLater(first!.receipt, 5);
    now += 4999;
    expect(await bus.receive('slack')).toEqual([]);
    now += 1;
    const [second] = await bus.receive('slack');
    expect(second).toMatchObject({ id: first!.id, body: 'post', receiveCount: 2 });
    await bus.close();
  });

  it('a message neither acknowledged nor retried comes back after the visibility timeout', async () => {
    const bus = await open();
    bus.declareQueue('slack', { visibilityTimeoutSeconds: 30 });
    await bus.send('slack', 'post');
    const [first] = await bus.receive('slack');
    now += 29_999;
    expect(await bus.receive('slack')).toEqual([]);
    now += 1;
    const [again] = await bus.receive('slack');
    expect(again).toMatchObject({ id: first!.id, receiveCount: 2 });
    await bus.ack(first!.receipt); // the old receipt is no longer current: ignored
    expect(await bus.list('slack')).toHaveLength(1);
    await bus.close();
  });

  it('after maxReceiveCount failed receives the message is in the dead-letter queue, and says where from', async () => {
    const deadLettered: unknown[] = [];
    const bus = await open({ onDeadLetter: (e) => deadLettered.push(e) });
    bus.declareQueue('dlq');
    bus.declareQueue('slack', { deadLetter: { queue: 'dlq', maxReceiveCount: 2 } });
    const id = await bus.send('slack', 'post');
    await bus.retryLater((await bus.receive('slack'))[0]!.receipt, 1);
    now += 1000;
    const [second] = await bus.receive('slack');
    expect(second!.receiveCount).toBe(2);
    await bus.retryLater(second!.receipt, 1);
    now += 60_000;
    expect(await bus.receive('slack')).toEqual([]);
    expect(await bus.list('dlq')).toEqual([expect.objectContaining({ id, body: 'post', receiveCount: 2, deadLetteredFrom: 'slack' })]);
    expect(deadLettered).toEqual([{ queue: 'slack', deadLetterQueue: 'dlq', id, receiveCount: 2, body: 'post' }]);
    await bus.close();
  });

  it('refuses what it cannot honour: an undeclared queue, a dead-letter queue declared after its source, a bad delay', async () => {
    const bus = await open();
    await expect(bus.send('nowhere', 'x')).rejects.toThrow('queue nowhere is not declared');
    expect(() => bus.declareQueue('slack', { deadLetter: { queue: 'dlq', maxReceiveCount: 2 } })).toThrow('dead-letter queue dlq is not declared');
    expect(() => bus.declareQueue('a b')).toThrow('letters, digits');
    bus.declareQueue('q');
    await expect(bus.send('q', 'x', { delayMs: -1 })).rejects.toThrow('not between 0 and one year');
    await bus.close();
  });
});

describe('the topic', () => {
  it('copies a publication to each queue whose filter policy matches, as an SNS notification envelope', async () => {
    const bus = await open();
    for (const q of ['ops', 'storm', 'everything', 'ops-critical']) bus.declareQueue(q);
    bus.subscribe('alerts', 'ops', { channels: ['ops'] });
    bus.subscribe('alerts', 'storm', { channels: ['storm'] });
    bus.subscribe('alerts', 'everything');
    bus.subscribe('alerts', 'ops-critical', { channels: ['ops'], severity: ['critical'] });

    const warning = await bus.publish('alerts', { subject: 'disk', message: '{"id":"a1"}', attributes: { channels: channels('ops', 'email'), severity: str('warning') } });
    expect(warning.queues.sort()).toEqual(['everything', 'ops']);
    const critical = await bus.publish('alerts', { subject: 'down', message: '{"id":"a2"}', attributes: { channels: channels('ops'), severity: str('critical') } });
    expect(critical.queues.sort()).toEqual(['everything', 'ops', 'ops-critical']);
    // No channels attribute: only the unfiltered subscription takes it.
    expect((await bus.publish('alerts', { subject: 'x', message: '{}', attributes: {} })).queues).toEqual(['everything']);

    const [m] = await bus.receive('ops');
    expect(JSON.parse(m!.body)).toEqual({
      Type: 'Notification',
      MessageId: warning.id,
      TopicArn: 'alerts',
      Subject: 'disk',
      Message: '{"id":"a1"}',
      Timestamp: new Date(now).toISOString(),
      MessageAttributes: { channels: { Type: 'String.Array', Value: '["ops","email"]' }, severity: { Type: 'String', Value: 'warning' } },
    });
    expect(await bus.list('storm')).toEqual([]);
    await bus.close();
  });

  it('refuses filter policies it would not evaluate as SNS does', () => {
    expect(() => checkFilterPolicy({ channels: [{ prefix: 'o' }] })).toThrow('only a non-empty list of exact string values');
    expect(() => checkFilterPolicy({ channels: [] })).toThrow();
    expect(() => checkFilterPolicy(['ops'])).toThrow();
  });
});

describe('reopening the store', () => {
  it('keeps what was sent, delayed or waiting for a retry, and makes what a dead process held in flight visible at once', async () => {
    let bus = await open();
    bus.declareQueue('q', { visibilityTimeoutSeconds: 300 });
    await bus.send('q', 'in flight');
    await bus.send('q', 'retrying');
    const received = await bus.receive('q');
    await bus.retryLater(received.find((m) => m.body === 'retrying')!.receipt, 60);
    await bus.send('q', 'delayed', { delayMs: 30_000 });
    await bus.close(); // 'in flight' was neither acknowledged nor retried: as if killed

    bus = await open();
    bus.declareQueue('q', { visibilityTimeoutSeconds: 300 });
    expect((await bus.receive('q')).map((m) => [m.body, m.receiveCount])).toEqual([['in flight', 2]]);
    now += 30_000;
    expect((await bus.receive('q')).map((m) => m.body)).toEqual(['delayed']);
    now += 30_000;
    expect((await bus.receive('q')).map((m) => [m.body, m.receiveCount])).toEqual([['retrying', 2]]);
    expect(await bus.sizes()).toEqual(new Map([['q', 3]]));
    await bus.close();
  });

  it('writes made while one is on its way to disk go together in one synced batch, each resolving once durable', async () => {
    let bus = await open({ sync: true });
    bus.declareQueue('q');
    bus.declareQueue('r');
    bus.subscribe('alerts', 'q');
    bus.subscribe('alerts', 'r');
    const batch = jest.spyOn(ClassicLevel.prototype, 'batch');
    try {
      const publications = Array.from({ length: 20 }, (_, i) => bus.publish('alerts', { subject: 's', message: `m${i}`, attributes: {} }));
      await Promise.all([...publications, bus.send('q', 'sent')]);
      // The first publish alone, the other 19 and the send behind it: two fsyncs, not 21.
      expect((batch.mock.calls as unknown as Array<[unknown[], { sync?: boolean }]>).map(([ops, options]) => [ops.length, options.sync])).toEqual([
        [2, true],
        [39, true],
      ]);
    } finally {
      batch.mockRestore();
    }
    await bus.close();
    bus = await open();
    bus.declareQueue('q');
    bus.declareQueue('r');
    expect((await bus.list('q')).map((m) => (m.body.startsWith('{') ? (JSON.parse(m.body) as { Message: string }).Message : m.body))).toEqual([...Array.from({ length: 20 }, (_, i) => `m${i}`), 'sent']);
    expect(await bus.sizes()).toEqual(new Map([['q', 21], ['r', 20]]));
    await bus.close();
  });

  it('a second process cannot open the same store (LevelDB holds a lock)', async () => {
    const bus = await open();
    await expect(LocalBus.open(dir)).rejects.toThrow(/cannot open the message bus in .*lock/i);
    await bus.close();
  });
});

describe('acknowledging a batch', () => {
  it('deletes every delivered message of the batch in one synced write, ignoring receipts no longer current', async () => {
    const bus = await open({ sync: true });
    bus.declareQueue('q', { visibilityTimeoutSeconds: 30 });
    for (const body of ['a', 'b', 'c', 'd']) await bus.send('q', body);
    const [stale] = await bus.receive('q', 1);
    now += 30_000; // its visibility ran out: received again below, under another receipt
    const batch = await bus.receive('q', 10);
    expect(batch.map((m) => m.body)).toEqual(['b', 'c', 'd', 'a']);
    const writes = jest.spyOn(ClassicLevel.prototype, 'batch');
    try {
      await bus.ackAll([stale!.receipt, ...batch.slice(0, 3).map((m) => m.receipt)]);
      // One write, deletes only (no read before it), synced.
      expect((writes.mock.calls as unknown as Array<[Array<{ type: string }>, { sync?: boolean }]>).map(([ops, options]) => [ops.map((o) => o.type), options.sync])).toEqual([[['del', 'del', 'del', 'del'], true]]);
    } finally {
      writes.mockRestore();
    }
    // 'a' is still in flight under its current receipt: the stale one deleted nothing.
    expect((await bus.list('q')).map((m) => [m.body, m.receiveCount])).toEqual([['a', 2]]);
    await expect(bus.ackAll(['q!undeclared!000000000000000!x'])).rejects.toThrow('queue undeclared is not declared');
    await bus.close();
  });
});

describe('the scan floor (receives start past the deletions of what they consumed)', () => {
  const scanStarts = (iterator: jest.SpyInstance) => (iterator.mock.calls as Array<[{ gte?: string }]>).map(([o]) => o.gte);

  it('a receive starts at what the last one left, and a message written below it (the clock set back) is still received', async () => {
    const bus = await open();
    bus.declareQueue('q');
    for (let i = 0; i < 30; i++) {
      await bus.send('q', `m${i}`);
      now += 10;
    }
    const all = await bus.receive('q', 30);
    await bus.ackAll(all.map((m) => m.receipt));
    const iterator = jest.spyOn(ClassicLevel.prototype, 'iterator');
    try {
      expect(await bus.receive('q')).toEqual([]);
      // Not the queue's first key (30 deletion markers behind it): where the last receive ended.
      expect(scanStarts(iterator)).toEqual([`q!q!${String(now + 1).padStart(15, '0')}`]);
    } finally {
      iterator.mockRestore();
    }
    now -= 60_000; // the system clock set back a minute
    await bus.send('q', 'earlier');
    expect((await bus.receive('q')).map((m) => m.body)).toEqual(['earlier']);
    await bus.close();
  });

  it('a message published while a receive scans, below what that receive consumes, is not skipped', async () => {
    const bus = await open({ sync: true });
    bus.declareQueue('q');
    bus.subscribe('alerts', 'q');
    await bus.send('q', 'due', { delayMs: 1000 });
    now += 1000;
    // The publish is on its way to disk when the receive takes its snapshot: the receive
    // consumes 'due' and must not move the floor past the publication (same millisecond).
    const receiving = bus.receive('q');
    const publishing = bus.publish('alerts', { subject: 's', message: 'published', attributes: {} });
    const [first] = await Promise.all([receiving, publishing]);
    const second = await bus.receive('q');
    const bodies = [...first, ...second].map((m) => (m.body.startsWith('{') ? (JSON.parse(m.body) as { Message: string }).Message : m.body));
    expect(bodies.sort()).toEqual(['due', 'published']);
    await bus.close();
  });

  it('a message made visible again (retry without delay, visibility timeout, redrive) is received', async () => {
    const bus = await open();
    bus.declareQueue('dlq');
    bus.declareQueue('q', { visibilityTimeoutSeconds: 5, deadLetter: { queue: 'dlq', maxReceiveCount: 3 } });
    await bus.send('q', 'x');
    const [a] = await bus.receive('q');
    await bus.retryLater(a!.receipt, 0);
    const [b] = await bus.receive('q');
    expect(b).toMatchObject({ body: 'x', receiveCount: 2 });
    now += 5000;
    const [c] = await bus.receive('q');
    expect(c).toMatchObject({ body: 'x', receiveCount: 3 });
    await bus.retryLater(c!.receipt, 0); // third failed receive: dead-lettered
    expect(await bus.receive('q')).toEqual([]);
    expect((await bus.receive('dlq')).map((m) => m.body)).toEqual(['x']);
    await bus.close();
  });
});

describe('a queue worker', () => {
  it('acknowledges a handled batch in one write and retries only what failed', async () => {
    const bus = await LocalBus.open(dir);
    bus.declareQueue('q');
    for (const body of ['ok1', 'fails', 'ok2', 'ok3']) await bus.send('q', body);
    const acks = jest.spyOn(bus, 'ackAll');
    const handled: string[][] = [];
    const worker = startQueueWorker({
      bus,
      queue: 'q',
      onError: (err) => {
        throw err;
      },
      handle: async (messages) => {
        handled.push(messages.map((m) => m.body));
        return messages.map((m) => (m.body === 'fails' ? { id: m.id, ok: false as const, retryAfterSeconds: 3600 } : { id: m.id, ok: true as const }));
      },
    });
    while (handled.length < 1 || acks.mock.calls.length < 1) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    expect(handled).toEqual([['ok1', 'fails', 'ok2', 'ok3']]);
    expect(acks.mock.calls.map(([receipts]) => receipts.length)).toEqual([3]);
    expect((await bus.list('q')).map((m) => [m.body, m.receiveCount])).toEqual([['fails', 1]]);
    await bus.close();
  }, 10_000);


  it('is woken by a send (no polling interval), acknowledges what it delivered and retries what failed', async () => {
    const bus = await LocalBus.open(dir);
    bus.declareQueue('q');
    const seen: Array<[string, number]> = [];
    const worker = startQueueWorker({
      bus,
      queue: 'q',
      onError: (err) => {
        throw err;
      },
      handle: async (messages) =>
        messages.map((m) => {
          seen.push([m.body, m.receiveCount]);
          return m.body === 'flaky' && m.receiveCount === 1 ? { id: m.id, ok: false as const, retryAfterSeconds: 0 } : { id: m.id, ok: true as const };
        }),
    });
    await new Promise((r) => setTimeout(r, 100)); // the worker is waiting on an empty queue
    await bus.send('q', 'flaky');
    await bus.send('q', 'fine');
    while (seen.length < 3) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    expect(seen.sort()).toEqual([['fine', 1], ['flaky', 1], ['flaky', 2]]);
    expect(await bus.list('q')).toEqual([]);
    await bus.close();
  }, 10_000);

  it('after a batch smaller than it asked for it waits, without an empty receive first, and still sees what came meanwhile', async () => {
    const bus = await LocalBus.open(dir);
    bus.declareQueue('q');
    for (const body of ['a', 'b']) await bus.send('q', body);
    const receives = jest.spyOn(bus, 'receive');
    const handled: string[][] = [];
    let first = true;
    const worker = startQueueWorker({
      bus,
      queue: 'q',
      onError: (err) => {
        throw err;
      },
      handle: async (messages) => {
        handled.push(messages.map((m) => m.body));
        // Sent while the first batch is being handled: the wait that follows must not miss it.
        if (first) await bus.send('q', 'meanwhile');
        first = false;
        return messages.map((m) => ({ id: m.id, ok: true as const }));
      },
    });
    while (handled.length < 2) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100)); // idle again
    await worker.stop();
    expect(handled).toEqual([['a', 'b'], ['meanwhile']]);
    // One receive per batch; none came back empty.
    expect(receives.mock.calls.length).toBe(2);
    expect(await bus.list('q')).toEqual([]);
    await bus.close();
  }, 10_000);
});

describe('npm start settings', () => {
  const logger = { info: () => undefined, error: () => undefined };
  it('TOCSIN_LOCAL_BUS_SYNC takes 1 or 0 and refuses anything else by name', async () => {
    await expect(openLocalBus(dir, logger, { TOCSIN_LOCAL_BUS_SYNC: 'sometimes' })).rejects.toThrow('TOCSIN_LOCAL_BUS_SYNC=sometimes is neither 1');
    for (const value of ['0', '1', undefined]) {
      const local = await openLocalBus(dir, logger, value === undefined ? {} : { TOCSIN_LOCAL_BUS_SYNC: value });
      await Promise.all(local.workers.map((w) => w.stop()));
      await local.bus.close();
    }
  });
});
