/**
 * The local runner's bus as `npm start` sets it up: the store under <data dir>/bus, the
 * alerts topic, the timers queue, the unfiltered notifications queue (the email worker's) and
 * the record of every notification (notifications.jsonl). Channel kinds add their own queues
 * and subscriptions (channels/<kind>/local.ts).
 */
import { resolve } from 'node:path';
import type { Logger } from '../../lambdas/app/runtime';
import { LOCAL_NAMES } from '../names';
import type { QueueWorker } from '../queue-worker';
import { LocalBus } from './bus';
import { startNotificationRecorder } from './recorder';

export interface RunningLocalBus {
  readonly bus: LocalBus;
  readonly alertsTopic: string;
  readonly timersQueue: string;
  readonly notificationsQueue: string;
  readonly notificationsFile: string;
  readonly workers: QueueWorker[];
}

/** Environment knob: `0` turns off the fsync of every bus write (docs/local-bus.md); default on. */
export const BUS_SYNC_ENV = 'TOCSIN_LOCAL_BUS_SYNC';

function busSync(env: NodeJS.ProcessEnv): boolean {
  const raw = (env[BUS_SYNC_ENV] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '1' || raw === 'true' || raw === 'on') return true;
  if (raw === '0' || raw === 'false' || raw === 'off') return false;
  throw new Error(`${BUS_SYNC_ENV}=${env[BUS_SYNC_ENV]} is neither 1 (fsync every write, the default) nor 0`);
}

export async function openLocalBus(dataDir: string, logger: Logger, env: NodeJS.ProcessEnv): Promise<RunningLocalBus> {
  const bus = await LocalBus.open(resolve(dataDir, LOCAL_NAMES.busDirectory), {
    sync: busSync(env),
    onDeadLetter: ({ body, ...e }) => logger.error('message dead-lettered', { ...e, subject: subjectOf(body) }),
  });
  const alertsTopic = LOCAL_NAMES.alertsTopic;
  bus.declareQueue(LOCAL_NAMES.timersQueue);
  bus.declareQueue(LOCAL_NAMES.notificationsQueue);
  bus.declareQueue(LOCAL_NAMES.recordQueue);
  bus.subscribe(alertsTopic, LOCAL_NAMES.notificationsQueue);
  bus.subscribe(alertsTopic, LOCAL_NAMES.recordQueue);
  const notificationsFile = resolve(dataDir, LOCAL_NAMES.notificationsFile);
  const recorder = startNotificationRecorder({
    bus,
    queue: LOCAL_NAMES.recordQueue,
    file: notificationsFile,
    onError: (err) => logger.error('notification record failed', { error: err.message }),
  });
  return { bus, alertsTopic, timersQueue: LOCAL_NAMES.timersQueue, notificationsQueue: LOCAL_NAMES.notificationsQueue, notificationsFile, workers: [recorder] };
}

/** The notification's subject, for the log line of a dead-lettered message (a timer has none). */
function subjectOf(body: string): string | undefined {
  try {
    const subject = (JSON.parse(body) as { Subject?: unknown }).Subject;
    return typeof subject === 'string' ? subject : undefined;
  } catch {
    return undefined;
  }
}

/** `# ...` lines for queues holding messages that nothing consumes (a channel removed from tocsin.yaml). */
export async function orphanedQueueLines(bus: LocalBus): Promise<string[]> {
  const lines: string[] = [];
  for (const [queue, count] of await bus.sizes()) {
    if (!bus.isDeclared(queue)) lines.push(`# warning: bus queue ${queue} holds ${count} message(s) that no channel of this configuration consumes`);
  }
  return lines;
}
