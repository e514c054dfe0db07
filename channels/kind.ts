/**
 * What a channel kind (email, slack ...) is at run time: its part of tocsin.yaml, what
 * the Lambdas may see of it, how an alert is rendered, and, for kinds tocsin delivers
 * itself, how it is sent. One module per kind, channels/<kind>/index.ts, registered in
 * channels/index.ts. Its CDK piece (infra.ts) and its `npm start` worker (local.ts) sit
 * next to it and are registered in channels/infra.ts and channels/local.ts: they load
 * CDK and local-only code that the Lambda bundles must not carry.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChannelSender } from '../lambdas/app/channel-delivery';
import type { ConfigIssue } from '../lambdas/domain/rules/config';
import type { ChannelSpec } from '../lambdas/domain/rules/types';
import type { Alert } from '../lambdas/domain/types';
import type { SecretClients } from './queue-delivered/secrets';
import type { TemplateText } from './templates';

/** JSON Schema (draft-07) as plain data. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** The state table, for kinds that remember what they sent (Slack app threads); deployed and under `npm start` (dynalite). */
export interface ChannelStateTable {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

export interface ChannelKind<Spec extends ChannelSpec = ChannelSpec, Payload = unknown, Settings = unknown> {
  readonly type: Spec['type'];
  /** JSON Schema of the properties of `channels.<name>` besides `type`. */
  readonly properties: Readonly<Record<string, JsonSchema>>;
  /** `delivery.<type>` of tocsin.yaml: its JSON Schema and the settings with defaults applied. */
  readonly settings: { readonly schema?: JsonSchema; read(raw: Record<string, unknown> | undefined): Settings };
  /**
   * `local.<key>` of tocsin.yaml: settings only `npm start` reads (email: `smtp`), never the
   * Lambdas. `check`: what the schema cannot express, paths relative to `local.<key>`.
   */
  readonly local?: { readonly key: string; readonly schema: JsonSchema; check?(raw: Readonly<Record<string, unknown>>): ConfigIssue[] };
  /** Checks the schema cannot express; paths relative to `channels.<name>`. */
  check?(spec: Spec): ConfigIssue[];
  /** What the Lambdas get of it: no secrets, no addresses, no local-only settings. */
  forLambda(spec: Spec): Spec;
  /**
   * The alert as this kind's message; `link` from tocsin.yaml links.alert; `text` the
   * templated title and body when a template applies (channels/templates.ts), which the
   * kind fits within its own limits.
   */
  render(alert: Alert, link: string | undefined, text?: TemplateText): Payload;
  /**
   * Kinds tocsin delivers itself (a queue per channel drained by the channel worker); absent
   * when SNS delivers them (email).
   */
  readonly worker?: {
    /** Deployed: at least this long between two sends of one poller to one destination. */
    readonly minIntervalMs: number;
    /** Deployed: the sender of these channels (secrets from Parameter Store or Secrets Manager, channels/secret-location.ts). */
    sender(channels: Readonly<Record<string, Spec>>, aws: { secrets: SecretClients; state: () => ChannelStateTable }): ChannelSender<Payload>;
  };
}
