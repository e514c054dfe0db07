/** ChannelPublisher on SNS: one message per alert, a body per protocol, filterable attributes. */
import { GetTopicAttributesCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { ChannelPublisher } from '../app/dispatcher';
import type { AlertsProbe } from '../app/heartbeat-ports';
import { safeText, truncateText } from '../domain/input-limits';
import { alertAttributes } from '../domain/render';
import { emailBody, emailSubject } from '../../channels/email/render';
import type { Alert } from '../domain/types';
import { CHANNELS_ATTRIBUTE } from '../commons/deployment';
import { awsCall } from './aws-errors';

/** SNS: subjects "less than 100 characters long", no line breaks or control characters. */
export const MAX_SNS_SUBJECT_CHARS = 99;
/** SNS refuses messages over 256 KiB (body and attributes); keep a margin. */
export const MAX_SNS_MESSAGE_BYTES = 250 * 1024;
/** Characters kept per detail value and for the title when an alert must be shrunk to fit. */
const SHRUNK_DETAIL_CHARS = 400;
const SHRUNK_TITLE_CHARS = 200;

export class SnsAlertPublisher implements ChannelPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    /** A link back: fixed, or per alert (tocsin.yaml links.alert). */
    private readonly link?: string | ((alert: Alert) => string | undefined),
    /** The email's templated subject and text (channels/templates.ts emailTexts). */
    private readonly emailText?: (alert: Alert, link: string | undefined) => { title?: string; body?: string } | undefined,
  ) {}

  async publish(alert: Alert): Promise<void> {
    const attributes = snsMessageAttributes(alert);
    const link = typeof this.link === 'function' ? this.link(alert) : this.link;
    const attributeBytes = Object.entries(attributes).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v.StringValue) + 6, 0);
    let { subject, message } = snsMessage(alert, link, this.emailText?.(alert, link));
    if (Buffer.byteLength(message) + attributeBytes > MAX_SNS_MESSAGE_BYTES) {
      const small = shrink(alert);
      ({ subject, message } = snsMessage(small, link, this.emailText?.(small, link)));
    }
    await awsCall(this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: snsSubject(subject),
        Message: message,
        MessageStructure: 'json',
        MessageAttributes: attributes,
      }),
    ));
  }
}

/** The message attributes subscriptions filter on (the local bus publishes the same). */
export function snsMessageAttributes(alert: Alert): Record<string, { DataType: 'String' | 'String.Array'; StringValue: string }> {
  const attributes: Record<string, { DataType: 'String' | 'String.Array'; StringValue: string }> = Object.fromEntries(
    // SNS refuses attribute values outside the XML character range, and the SDK cannot
    // encode lone surrogates: either would make this alert unpublishable forever.
    Object.entries(alertAttributes(alert)).map(([name, value]) => [name, { DataType: 'String' as const, StringValue: safeText(value) }]),
  );
  // Subscription filter policies route per channel: { "channels": ["<name>"] } matches any element.
  if (alert.channels?.length) attributes[CHANNELS_ATTRIBUTE] = { DataType: 'String.Array', StringValue: JSON.stringify(alert.channels.map(safeText)) };
  return attributes;
}

/** The sweeper's check that alerts can go out: the topic answers (GetTopicAttributes), nothing is published. */
export class SnsAlertsProbe implements AlertsProbe {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async reachable(): Promise<void> {
    await awsCall(this.sns.send(new GetTopicAttributesCommand({ TopicArn: this.topicArn })));
  }
}

/** The SNS `MessageStructure: 'json'` document: one body per protocol. */
export function snsMessage(alert: Alert, link?: string, emailText?: { title?: string; body?: string }): { subject: string; message: string } {
  const json = JSON.stringify(alert);
  const text = emailText?.body ?? emailBody(alert, link);
  return {
    subject: emailSubject(alert, emailText?.title),
    message: JSON.stringify({ default: text, email: text, 'email-json': json, sqs: json, lambda: json, http: json, https: json }),
  };
}

/**
 * A subject SNS accepts whatever the alert holds: otherwise the publish would fail on
 * every retry and the alert would never go out.
 */
export function snsSubject(subject: string): string {
  const flat = safeText(subject).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]+/g, ' ');
  return flat.length <= MAX_SNS_SUBJECT_CHARS ? flat : `${truncateText(flat, MAX_SNS_SUBJECT_CHARS - 3)}...`;
}

/** The alert with every detail and the title cut short; the id and facts stay intact. */
export function shrink(alert: Alert): Alert {
  const cut = (text: string, max: number) => (text.length > max ? `${truncateText(text, max - 1)}…` : text);
  return {
    ...alert,
    title: cut(alert.title, SHRUNK_TITLE_CHARS),
    details: alert.details.slice(0, 40).map(([k, v]) => [cut(k, 64), cut(v, SHRUNK_DETAIL_CHARS)] as [string, string]),
  };
}
