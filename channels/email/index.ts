/**
 * Email: SNS delivers it. Deployed, each address is an SNS email subscription filtered on
 * the channel (infra.ts); under `npm start` the local worker sends it through the SMTP
 * server of `local.smtp` (smtp-config.ts, smtp-delivery.ts), or prints it (local.ts).
 */
import type { Severity } from '../../lambdas/domain/types';
import type { ChannelKind } from '../kind';
import { emailBody, emailSubject } from './render';
import { SMTP_SCHEMA, smtpIssues } from './smtp-config';

export interface EmailChannel {
  type: 'email';
  /** Deployment detail; not needed at run time. */
  addresses?: string[];
  minSeverity?: Severity;
}

export interface EmailMessage {
  subject: string;
  text: string;
}

export const emailChannel: ChannelKind<EmailChannel, EmailMessage, undefined> = {
  type: 'email',
  properties: {
    addresses: { type: 'array', uniqueItems: true, items: { $ref: '#/definitions/email' } },
    minSeverity: { $ref: '#/definitions/severity' },
  },
  settings: { read: () => undefined },
  local: { key: 'smtp', schema: SMTP_SCHEMA, check: smtpIssues },
  forLambda: (spec) => ({ type: 'email', ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}) }),
  render: (alert, link, text) => ({ subject: emailSubject(alert, text?.title), text: text?.body ?? emailBody(alert, link) }),
};
