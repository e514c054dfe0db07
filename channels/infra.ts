/**
 * The CDK piece of every channel kind, keyed by `type` (channels/kind-infra.ts). lib/
 * loops over it; a `type` in ChannelSpec without an entry here does not compile.
 */
import type { ConfigIssue } from '../lambdas/domain/rules/config';
import type { ChannelSpec } from '../lambdas/domain/rules/types';
import { isChannelType, unknownChannelType } from '.';
import { EMAIL_INFRA } from './email/infra';
import type { ChannelInfra, ChannelSpecOf, ChannelType } from './kind-infra';
import { PAGERDUTY_INFRA } from './pagerduty/infra';
import { SLACK_INFRA } from './slack/infra';
import { TEAMS_INFRA } from './teams/infra';
import { WEBHOOK_INFRA } from './webhook/infra';

const KINDS = { email: EMAIL_INFRA, slack: SLACK_INFRA, pagerduty: PAGERDUTY_INFRA, webhook: WEBHOOK_INFRA, teams: TEAMS_INFRA };
type Kinds = typeof KINDS;

export type DeployedChannelOf<T extends ChannelType> = Kinds[T] extends ChannelInfra<T, infer Deployed, unknown> ? Deployed : never;
export type ChannelResourcesOf<T extends ChannelType> = ReturnType<Kinds[T]['build']>;

export const CHANNEL_INFRA: { readonly [T in ChannelType]: ChannelInfra<T, DeployedChannelOf<T>, ChannelResourcesOf<T>> } = KINDS;
export const CHANNEL_TYPES = Object.keys(CHANNEL_INFRA) as readonly ChannelType[];

/** The deployment view of every channel of a tocsin.yaml, by type, in file order. */
export type DeployedChannels = { readonly [T in ChannelType]: readonly DeployedChannelOf<T>[] };

/** Deployment views of `channels` (tocsin.yaml's), or every problem found (full paths). */
export function deployChannels(channels: Readonly<Record<string, ChannelSpec>>): { readonly channels: DeployedChannels } | { readonly issues: ConfigIssue[] } {
  const deployed = Object.fromEntries(CHANNEL_TYPES.map((type) => [type, []])) as unknown as { [T in ChannelType]: DeployedChannelOf<T>[] };
  const issues: ConfigIssue[] = [];
  const deploy = <T extends ChannelType>(type: T, name: string, spec: ChannelSpecOf<T>): void => {
    const deployment = CHANNEL_INFRA[type].deployment(name, spec);
    if ('issues' in deployment) issues.push(...deployment.issues.map((issue) => ({ ...issue, path: ['channels', name, ...issue.path] })));
    else deployed[type].push(deployment.channel);
  };
  for (const [name, spec] of Object.entries(channels)) {
    if (isChannelType(spec.type)) deploy(spec.type, name, spec as ChannelSpecOf<typeof spec.type>);
    else issues.push({ path: ['channels', name, 'type'], reason: unknownChannelType(spec.type) });
  }
  return issues.length > 0 ? { issues } : { channels: deployed };
}
