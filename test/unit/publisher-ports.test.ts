/**
 * The engine's publisher (OutboxPublisher: the Dispatcher, which applies rules, silences
 * and storm grouping) and the dispatcher's (ChannelPublisher: SNS) must not be
 * interchangeable: the SNS publisher in the engine's place would publish every alert
 * unrouted and unsilenced. tsc checks the `@ts-expect-error` lines (`npm test` runs it):
 * were the two ports to fit each other again, the build would fail.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { Dispatcher, type ChannelPublisher } from '../../lambdas/app/dispatcher';
import type { OutboxPublisher } from '../../lambdas/app/ports';
import type { SourceContext } from '../../lambdas/app/sources';
import { compileRules } from '../../lambdas/domain/rules/evaluate';

const rules = compileRules({ clusters: ['prod'], channels: { email: { type: 'email' } }, defaults: { channels: ['email'], resolved: true }, rules: [], grouping: { windowSeconds: 60, threshold: 20 } });

test('the SNS publisher does not fit where the dispatcher belongs, nor the dispatcher where a channel publisher does', () => {
  const sns = new SnsAlertPublisher(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:000000000000:alerts');
  const dispatcher = new Dispatcher({ rules, channels: sns, timers: { schedule: async () => undefined }, clock: { nowMs: () => 0 } });

  // @ts-expect-error a ChannelPublisher is no OutboxPublisher: alerts would skip rules and silences
  const engineSide: OutboxPublisher = sns;
  // @ts-expect-error the mistake as a source would make it
  const sourceSide: Pick<SourceContext, 'publisher'> = { publisher: sns };
  // @ts-expect-error nor is the dispatcher a ChannelPublisher
  const channelSide: ChannelPublisher = dispatcher;
  const wired: Pick<SourceContext, 'publisher'> = { publisher: dispatcher };

  // At run time too, neither has the other's method.
  expect('dispatch' in engineSide || 'dispatch' in sourceSide.publisher).toBe(false);
  expect('publish' in channelSide).toBe(false);
  expect(typeof wired.publisher.dispatch).toBe('function');
});
