/**
 * The engine's publisher in tests of sources without rules: each outbox entry's alert goes
 * to the channel publisher (SNS) as it is, with no channels, silences or timers. The
 * deployed pipeline always dispatches through the Dispatcher.
 */
import type { ChannelPublisher } from '../../lambdas/app/dispatcher';
import type { OutboxPublisher } from '../../lambdas/app/ports';

export function publishUnrouted(channels: ChannelPublisher): OutboxPublisher {
  return { dispatch: (entry) => channels.publish(entry.alert) };
}
