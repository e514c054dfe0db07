/**
 * Email under `npm start`: printed, not sent. Every notification (whatever its channels:
 * this is also the runner's record of what went out) is printed as the email would read
 * and appended as one JSON line to <data dir>/notifications.jsonl.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { alertFromNotification } from '../../lambdas/domain/render';
import { startQueueWorker } from '../../local/queue-worker';
import type { LocalChannel } from '../local-kind';
import { emailChannel } from '.';

export const NOTIFICATIONS_FILE = 'notifications.jsonl';

export const emailLocal: LocalChannel<'email'> = {
  async start(ctx) {
    const jsonlPath = resolve(ctx.dataDir, NOTIFICATIONS_FILE);
    const printer = startQueueWorker({
      sqs: ctx.sqs,
      queueUrl: ctx.notificationsQueueUrl,
      onError: (err) => ctx.logger.error('notification delivery failed', { error: err.message }),
      handle: async (messages) =>
        messages.map((m) => {
          const notification = JSON.parse(m.body || '{}') as { Message: string };
          const alert = alertFromNotification(notification.Message);
          const { subject, text } = emailChannel.render(alert, undefined);
          ctx.print(`\n=== notification ===\nSubject: ${subject}\n\n${text}\n====================\n`);
          appendFileSync(jsonlPath, `${JSON.stringify({ subject, alert })}\n`);
          return { id: m.id, ok: true as const };
        }),
    });
    return { workers: [printer], banner: [`# notifications are appended to ${jsonlPath}`] };
  },
};
