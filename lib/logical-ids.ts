import { createHash } from 'node:crypto';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';

/**
 * The CloudFormation logical id CDK allocates to a resource at `path` (construct ids below
 * the stack, '/'-separated): CDK's own algorithm (core/lib/private/uniqueid.ts, not
 * exported), which cannot change without replacing every deployed resource.
 */
export function logicalIdAt(path: string): string {
  const components = path.split('/').filter((c) => c !== 'Default');
  const alphanumeric = (c: string) => c.replace(/[^A-Za-z0-9]/g, '');
  if (components.length === 1 && alphanumeric(components[0]!).length <= 255) return alphanumeric(components[0]!);
  const hash = createHash('md5').update(components.join('/')).digest('hex').slice(0, 8).toUpperCase();
  const human: string[] = [];
  for (const c of components) if (human.length === 0 || !human[human.length - 1]!.endsWith(c)) human.push(c);
  return human.filter((c) => c !== 'Resource').map(alphanumeric).join('').slice(0, 240) + hash;
}

/**
 * Gives the resource of `construct` the logical id it had when the construct lived at
 * `legacyPath` (below the stack). A stateful resource under a new id is replaced on the
 * next deploy: queued messages are lost, generated secrets change (a named secret cannot
 * even be replaced: the deploy fails), and a queue policy under a new id can leave its
 * queue with no policy once the old one is deleted.
 */
export function keepLogicalId(construct: IConstruct, legacyPath: string): void {
  const resource = construct.node.defaultChild as CfnElement;
  const stack = Stack.of(resource);
  // A rename, unlike overrideLogicalId, is also what stack.getLogicalId() answers.
  stack.renameLogicalId(stack.getLogicalId(resource), logicalIdAt(`${legacyPath}/${resource.node.id}`));
}

/** A queue and its policy (where enforceSSL and the SNS grants go). */
export function keepQueueLogicalIds(queue: Queue, legacyPath: string): void {
  keepLogicalId(queue, legacyPath);
  const policy = queue.node.tryFindChild('Policy');
  if (policy) keepLogicalId(policy, `${legacyPath}/Policy`);
}
