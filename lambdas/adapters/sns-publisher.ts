/** AlertPublisher on SNS: one message per alert, a body per protocol, filterable attributes. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { AlertPublisher } from '../app/ports';
import { alertAttributes, snsMessage } from '../domain/render';
import type { Alert } from '../domain/types';

export class SnsAlertPublisher implements AlertPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    private readonly link?: string,
  ) {}

  async publish(alert: Alert): Promise<void> {
    const { subject, message } = snsMessage(alert, this.link);
    const attributes = Object.fromEntries(
      Object.entries(alertAttributes(alert)).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
    );
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        Subject: subject,
        Message: message,
        MessageStructure: 'json',
        MessageAttributes: attributes,
      }),
    );
  }
}
