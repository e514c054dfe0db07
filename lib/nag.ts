import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Register the cdk-nag packs on an App (cdk-nag v3: CDK policy-validation plugins,
 * not Aspects). Unacknowledged errors fail synthesis; findings are acknowledged
 * next to the resource they concern with `Validations.of(x).acknowledge({ id, reason })`.
 */
export function applyNagPacks(app: IConstruct, opts: { verbose?: boolean } = {}): NagPack[] {
  const packs: NagPack[] = [
    new AwsSolutionsChecks(app, { verbose: opts.verbose, writeSuppressionsToCloudFormation: true }),
    new ServerlessChecks(app, { verbose: opts.verbose, writeSuppressionsToCloudFormation: true }),
  ];
  Validations.of(app).addPlugins(...packs);
  return packs;
}

/** A queue that is itself a dead-letter queue (of `of`) has no redrive policy of its own. */
export function acknowledgeDeadLetterQueue(queue: IConstruct, of: string): void {
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This queue is itself the dead-letter queue of ${of}; a DLQ of a DLQ adds nothing. Its depth is alarmed on.`,
  });
}
