/** What a channel kind provides to `npm start` (registered in channels/local.ts). */
import type { Logger } from '../lambdas/app/runtime';
import type { FileConfig } from '../lambdas/commons/config-file';
import type { LocalBus } from '../local/bus/bus';
import type { ChannelStateTable } from './kind';
import type { QueueWorker } from '../local/queue-worker';
import type { ChannelSpecOf, ChannelType } from '.';

export interface LocalChannelContext {
  readonly config: FileConfig;
  /** The runner's durable topic and queues (local/bus): declare queues, subscribe them to `alertsTopic`. */
  readonly bus: LocalBus;
  readonly alertsTopic: string;
  /** A queue of the bus subscribed to the alerts topic, unfiltered: every notification. */
  readonly notificationsQueue: string;
  readonly dataDir: string;
  /** The state table (dynalite, or --dynamodb-endpoint), for kinds that remember what they sent. */
  readonly state: ChannelStateTable;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  /** Notification bodies for the operator (stdout); a no-op under `npm start -- --quiet`, so never for warnings. */
  print(text: string): void;
}

export interface LocalDelivery {
  readonly workers: QueueWorker[];
  /** `# ...` lines for the runner's banner. */
  readonly banner: string[];
}

export interface LocalChannel<T extends ChannelType> {
  /** Starts delivering the channels of this kind (possibly none). */
  start(ctx: LocalChannelContext, channels: Readonly<Record<string, ChannelSpecOf<T>>>): Promise<LocalDelivery>;
}
