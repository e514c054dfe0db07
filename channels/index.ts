/**
 * The channel kinds tocsin knows: one line per kind. Config validation, the Lambdas' view
 * of the config and the JSON Schema loop over this registry; so do the CDK stack and
 * `npm start`, through channels/infra.ts and channels/local.ts, whose entries are typed
 * by it (a kind registered here without them does not compile).
 */
import type { ConfigIssue } from '../lambdas/domain/rules/config';
import type { ChannelSpec, RuntimeConfig } from '../lambdas/domain/rules/types';
import { emailChannel } from './email';
import type { ChannelKind, JsonSchema } from './kind';
import { pagerdutyChannel } from './pagerduty';
import { slackChannel } from './slack';
import { teamsChannel } from './teams';
import { webhookChannel } from './webhook';

export const CHANNEL_KINDS = {
  email: emailChannel,
  slack: slackChannel,
  pagerduty: pagerdutyChannel,
  webhook: webhookChannel,
  teams: teamsChannel,
} as const;

export type ChannelType = keyof typeof CHANNEL_KINDS;
type KindOf<T extends ChannelType> = (typeof CHANNEL_KINDS)[T];
export type ChannelSpecOf<T extends ChannelType> = KindOf<T> extends ChannelKind<infer S, unknown, unknown> ? S : never;
export type SettingsOf<T extends ChannelType> = ReturnType<KindOf<T>['settings']['read']>;
/** `delivery:` of tocsin.yaml, per kind, defaults applied. */
export type DeliverySettings = { readonly [T in ChannelType]: SettingsOf<T> };

export function isChannelType(type: string): type is ChannelType {
  return Object.prototype.hasOwnProperty.call(CHANNEL_KINDS, type);
}

export function channelKind(type: string): ChannelKind | undefined {
  return isChannelType(type) ? (CHANNEL_KINDS[type] as ChannelKind) : undefined;
}

/** The channels of one kind, by name. */
export function channelsOfType<T extends ChannelType>(channels: Readonly<Record<string, ChannelSpec>>, type: T): Record<string, ChannelSpecOf<T>> {
  return Object.fromEntries(Object.entries(channels).filter(([, ch]) => ch.type === type)) as Record<string, ChannelSpecOf<T>>;
}

export function unknownChannelType(type: string): string {
  return `unknown channel type "${type}" (known: ${Object.keys(CHANNEL_KINDS).join(', ')})`;
}

/** What the schema cannot check about `channels`: a registered type, then the kind's own checks. */
export function channelIssues(channels: Readonly<Record<string, ChannelSpec>>): ConfigIssue[] {
  return Object.entries(channels).flatMap(([name, ch]) => {
    const kind = channelKind(ch.type);
    if (!kind) return [{ path: ['channels', name, 'type'], reason: unknownChannelType(ch.type) }];
    return (kind.check?.(ch) ?? []).map((i) => ({ ...i, path: ['channels', name, ...i.path] }));
  });
}

/** What the Lambdas get: each kind keeps what it needs at run time (no webhook URLs, no addresses). */
export function lambdaConfig(config: RuntimeConfig): RuntimeConfig {
  const channels = Object.fromEntries(
    Object.entries(config.channels).map(([name, ch]) => {
      const kind = channelKind(ch.type);
      if (!kind) throw new Error(`channels.${name}: ${unknownChannelType(ch.type)}`);
      // The templates go along: the channel worker renders them (channels/templates.ts).
      return [name, { ...kind.forLambda(ch), ...(ch.template ? { template: ch.template } : {}) }];
    }),
  );
  return { ...config, channels };
}

/** `delivery:` of tocsin.yaml with each kind's defaults applied. */
export function readDeliverySettings(raw: Readonly<Record<string, unknown>> | undefined): DeliverySettings {
  return Object.fromEntries(
    Object.entries(CHANNEL_KINDS).map(([type, kind]) => [type, (kind as ChannelKind).settings.read(raw?.[type] as Record<string, unknown> | undefined)]),
  ) as DeliverySettings;
}

/** The keys a channel of `type` may have, `type` first (for config errors). */
export function allowedChannelKeys(type: string): string[] | undefined {
  const kind = channelKind(type);
  return kind ? ['type', ...Object.keys(kind.properties), 'template'] : undefined;
}

/** `local:` of tocsin.yaml (schema-valid): what the kinds' checks find, paths from the top. */
export function localSettingsIssues(raw: Readonly<Record<string, unknown>> | undefined): ConfigIssue[] {
  return (Object.values(CHANNEL_KINDS) as ChannelKind[]).flatMap((kind) => {
    const part = kind.local && (raw?.[kind.local.key] as Record<string, unknown> | undefined);
    if (!kind.local?.check || !part) return [];
    return kind.local.check(part).map((i) => ({ ...i, path: ['local', kind.local?.key ?? '', ...i.path] }));
  });
}

/** schema/tocsin.schema.json's `definitions.channel`, `properties.delivery` and `properties.local`, from the kinds. */
export function channelSchemas(): { channel: JsonSchema; delivery: JsonSchema; local: JsonSchema } {
  const kinds = Object.values(CHANNEL_KINDS) as ChannelKind[];
  return {
    // if/then per type rather than oneOf: a validator reports the errors of the channel's own
    // type only, not one "must be <type>" per other kind.
    channel: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: kinds.map((k) => k.type) } },
      allOf: kinds.map((k) => ({
        if: { properties: { type: { const: k.type } }, required: ['type'] },
        then: { properties: { type: { const: k.type }, ...k.properties, template: { $ref: '#/definitions/template' } }, additionalProperties: false },
      })),
    },
    delivery: {
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(kinds.flatMap((k) => (k.settings.schema ? [[k.type, k.settings.schema]] : []))),
    },
    local: {
      description: 'npm start only (ignored when deployed).',
      type: 'object',
      additionalProperties: false,
      properties: Object.fromEntries(kinds.flatMap((k) => (k.local ? [[k.local.key, k.local.schema]] : []))),
    },
  };
}
