/**
 * End to end: `npm start` with `local.smtp` sends the email channels through a real SMTP
 * server (smtp-server, started here): to the addresses of the channels an alert names,
 * rendered as the deployed email, once; a 451 is retried until the server accepts; an
 * address refused on every attempt, or refused for good (550), lands in the dead-letter
 * file with a loud stderr line. AUTH from the environment; STARTTLS and implicit TLS with
 * a private CA trusted through caFile. A missing password variable stops the start. An
 * email waiting for its retry survives a kill -9 of the runner.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emailBody, emailSubject } from '../../channels/email/render';
import { alertLink } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { LOCAL_NAMES } from '../../local/names';
import { tempDir } from '../shim/helpers';
import { healthCheck } from '../support/consul-fixtures';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { until } from '../support/e2e-steps';
import { checksEnvelope, signedEnvelope } from '../support/signed-requests';
import { privateCa, startSmtpSink, type SmtpSink } from '../support/smtp-sink';

const PASSWORD_ENV = 'TOCSIN_TEST_SMTP_PASSWORD';
const PASSWORD = 'correct horse battery staple';
const LINK = 'https://consul.example.com/ui/{cluster}/nodes/{node}';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function writeConfig(smtp: string, extra = ''): string {
  const file = join(tempDir('tocsin-e2e-smtp-'), 'tocsin.yaml');
  writeFileSync(
    file,
    `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  oncall: { type: email, addresses: [ops@example.com, lead@example.com] }
  flaky: { type: email, addresses: [flaky@example.com] }
  down: { type: email, addresses: [down@example.com] }
  gone: { type: email, addresses: [gone@example.com] }
  pager: { type: email, addresses: [pager@example.com], minSeverity: critical }
defaults: { channels: [oncall] }
links: { alert: "${LINK}" }
rules:
  - { name: flaky, match: { check: flaky }, channels: [flaky] }
  - { name: down, match: { check: down }, channels: [down] }
  - { name: gone, match: { check: gone }, channels: [gone] }
  - { name: warn, match: { check: warn }, severity: warning, channels: [pager, oncall] }
local:
  smtp: ${smtp}
${extra}`,
  );
  return file;
}

/** One Consul checks snapshot with one critical check, as the shim signs it. */
async function critical(p: LocalPipeline, check: string): Promise<void> {
  const envelope = checksEnvelope(p.cluster, [healthCheck({ Node: 'web-1', CheckID: check, Name: check, Status: 'critical', Output: `${check} is down`, ModifyIndex: 20 })], {
    scope: `scope-${check}`,
    index: '20',
  });
  const req = signedEnvelope(envelope, { key: p.key, cluster: p.cluster });
  const res = await fetch(p.url, { method: req.method, headers: req.headers as Record<string, string>, body: req.body });
  expect(res.status).toBeLessThan(300);
}

/** The notifications the runner recorded (notifications.jsonl), by check. */
function recorded(p: LocalPipeline, check: string): Alert[] {
  const file = join(p.dataDir, 'notifications.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { alert: Alert }).alert)
    .filter((a) => a.check === check);
}

interface DeadLetterLine {
  channel: string;
  address: string;
  subject: string;
  alert: Alert;
  attempts: number;
  reason: string;
  error: { message: string; responseCode?: number };
}

function deadLetters(p: LocalPipeline): DeadLetterLine[] {
  const file = join(p.dataDir, LOCAL_NAMES.emailDeadLetterFile);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as DeadLetterLine) : [];
}

const to = (sink: SmtpSink, address: string) => sink.received.filter((m) => m.to.includes(address));
const summary = (sink: SmtpSink) => () => sink.received.map((m) => `${m.to.join(',')}: ${m.subject}`).join('\n');

describe('plain SMTP with AUTH, retries and the dead-letter file', () => {
  let sink: SmtpSink;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    sink = await startSmtpSink({
      tls: 'none',
      auth: { user: 'tocsin', pass: PASSWORD },
      refuse: (rcpt, attempt) => {
        if (rcpt === 'flaky@example.com' && attempt <= 2) return 451;
        if (rcpt === 'down@example.com') return 451;
        if (rcpt === 'gone@example.com') return 550;
        return undefined;
      },
    });
    const file = writeConfig(
      `{ host: 127.0.0.1, port: ${sink.port}, tls: none, from: "Tocsin <tocsin@example.com>", username: tocsin, passwordEnv: ${PASSWORD_ENV}, maxAttempts: 3, retryBaseSeconds: 1, retryMaxSeconds: 2 }`,
    );
    pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, [PASSWORD_ENV]: PASSWORD } });
  }, 90000);

  afterAll(async () => {
    const code = await pipeline?.stop();
    await sink?.close();
    expect(code).toBe(0);
  });

  it('says in the banner where email goes, and prints no notification body', () => {
    expect(pipeline.output()).toContain(`# email: sent through SMTP 127.0.0.1:${sink.port} (tls none, user tocsin) from Tocsin <tocsin@example.com>`);
    expect(pipeline.output()).toContain(`# email dead letters: ${join(pipeline.dataDir, LOCAL_NAMES.emailDeadLetterFile)}`);
    expect(pipeline.output()).not.toContain('not sent (no local.smtp');
  });

  it('an alert reaches each address of the channel it names once, From/To/Subject/body as deployed, logged in with the password of the environment', async () => {
    await critical(pipeline, 'web');
    await until('both oncall addresses', () => to(sink, 'ops@example.com').length >= 1 && to(sink, 'lead@example.com').length >= 1, 15000, summary(sink));
    const [alert] = recorded(pipeline, 'web');
    expect(alert).toBeDefined();
    await sleep(2500); // long enough for a duplicate or a stray retry to show
    for (const address of ['ops@example.com', 'lead@example.com']) {
      const mails = to(sink, address);
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail!.to).toEqual([address]);
      expect(mail!.from).toBe('tocsin@example.com');
      expect(mail!.headers.from).toBe('Tocsin <tocsin@example.com>');
      expect(mail!.headers.to).toBe(address);
      expect(mail!.subject).toBe(emailSubject(alert!));
      expect(mail!.subject).toMatch(/^\[tocsin default\] CRITICAL: /);
      expect(mail!.text).toBe(emailBody(alert!, alertLink(LINK, alert!)));
      expect(mail!.text).toContain('https://consul.example.com/ui/default/nodes/web-1');
      expect(mail!.headers['x-tocsin-alert-id']).toBe(alert!.id);
      // Stable across retries (the message id on the topic and the address): a resent copy shows once.
      expect(mail!.headers['message-id']).toMatch(/^<[0-9a-f-]+\.[0-9a-f]{12}@example\.com>$/);
      expect(mail!.user).toBe('tocsin');
    }
    // Only the channel the alert names: not the other channels' addresses.
    expect(sink.received.filter((m) => m.subject.includes('web') && !['ops@example.com', 'lead@example.com'].includes(m.to[0]!))).toEqual([]);
    expect(sink.authFailures()).toBe(0);
    expect(pipeline.output()).toContain(`email sent to ops@example.com (channel oncall): ${emailSubject(alert!)}`);
    expect(pipeline.output()).not.toContain('=== notification ===');
    expect(`${pipeline.output()}${pipeline.logs()}`).not.toContain(PASSWORD);
  }, 30000);

  it('a channel with a minimum severity does not get what is below it', async () => {
    await critical(pipeline, 'warn');
    await until('the oncall copy of the warning', () => sink.received.some((m) => m.subject.includes('warn') && m.to.includes('ops@example.com')), 15000, summary(sink));
    await sleep(2000);
    expect(to(sink, 'pager@example.com')).toEqual([]);
    expect(sink.attempts('pager@example.com')).toBe(0);
  }, 30000);

  it('a server answering 451 twice, then accepting, gets the email exactly once', async () => {
    await critical(pipeline, 'flaky');
    await until('the flaky email', () => to(sink, 'flaky@example.com').length >= 1, 20000, summary(sink));
    await sleep(2500);
    expect(to(sink, 'flaky@example.com')).toHaveLength(1);
    expect(sink.attempts('flaky@example.com')).toBe(3);
    expect(deadLetters(pipeline).filter((d) => d.address === 'flaky@example.com')).toEqual([]);
  }, 40000);

  it('an address refused on every attempt goes to the dead-letter file after maxAttempts, and stderr says so', async () => {
    await critical(pipeline, 'down');
    // The file is written before the stderr line: wait for both.
    await until('the dead letter and its stderr line', () => deadLetters(pipeline).some((d) => d.address === 'down@example.com') && pipeline.logs().includes('EMAIL NOT SENT to down@example.com'), 30000, () => pipeline.logs().slice(-3000));
    const [letter, ...more] = deadLetters(pipeline).filter((d) => d.address === 'down@example.com');
    expect(more).toEqual([]);
    expect(letter).toMatchObject({ channel: 'down', address: 'down@example.com', attempts: 3, reason: 'attempts exhausted', error: { responseCode: 451 } });
    expect(letter!.alert.check).toBe('down');
    expect(letter!.subject).toBe(emailSubject(letter!.alert));
    expect(sink.attempts('down@example.com')).toBe(3);
    expect(to(sink, 'down@example.com')).toEqual([]);
    expect(pipeline.logs()).toMatch(/^tocsin: EMAIL NOT SENT to down@example\.com \(channel down\), failed 3 times: .*451.*written to .*email-dead-letters\.jsonl$/m);
    await sleep(3000); // nothing more is tried
    expect(sink.attempts('down@example.com')).toBe(3);
  }, 60000);

  it('an address refused for good (550) is dead-lettered at the first attempt', async () => {
    await critical(pipeline, 'gone');
    // The file is written before the stderr line: wait for both.
    await until('the dead letter and its stderr line', () => deadLetters(pipeline).some((d) => d.address === 'gone@example.com') && pipeline.logs().includes('EMAIL NOT SENT to gone@example.com'), 20000, () => pipeline.logs().slice(-3000));
    expect(deadLetters(pipeline).filter((d) => d.address === 'gone@example.com')).toEqual([
      expect.objectContaining({ channel: 'gone', attempts: 1, reason: 'permanent', error: expect.objectContaining({ responseCode: 550 }) }),
    ]);
    expect(pipeline.logs()).toMatch(/^tocsin: EMAIL NOT SENT to gone@example\.com \(channel gone\), refused for good: .*550/m);
    await sleep(3000);
    expect(sink.attempts('gone@example.com')).toBe(1);
  }, 40000);
});

describe.each(['starttls', 'implicit'] as const)('TLS %s with a private CA (caFile)', (tls) => {
  let sink: SmtpSink;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    const dir = tempDir('tocsin-e2e-ca-');
    const ca = privateCa(dir);
    sink = await startSmtpSink({ tls, cert: ca, auth: { user: 'tocsin', pass: PASSWORD } });
    // Relative to the config file: the CA sits next to it.
    const file = writeConfig(`{ host: 127.0.0.1, port: ${sink.port}, tls: ${tls}, from: tocsin@example.com, username: tocsin, passwordEnv: ${PASSWORD_ENV}, caFile: ca.pem }`);
    writeFileSync(join(file, '..', 'ca.pem'), readFileSync(ca.caFile));
    pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, [PASSWORD_ENV]: PASSWORD } });
  }, 90000);

  afterAll(async () => {
    const code = await pipeline?.stop();
    await sink?.close();
    expect(code).toBe(0);
  });

  it('the email goes over TLS, to a server whose certificate the CA signed', async () => {
    await critical(pipeline, 'web');
    await until('both oncall addresses', () => to(sink, 'ops@example.com').length >= 1 && to(sink, 'lead@example.com').length >= 1, 15000, () => pipeline.logs().slice(-3000));
    await sleep(1500);
    expect(to(sink, 'ops@example.com')).toHaveLength(1);
    const [mail] = to(sink, 'ops@example.com');
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe('tocsin');
    expect(mail!.headers.from).toBe('tocsin@example.com');
  }, 30000);
});

describe('TLS to a server whose CA is not trusted (no caFile)', () => {
  let sink: SmtpSink;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    sink = await startSmtpSink({ tls: 'starttls', cert: privateCa(tempDir('tocsin-e2e-ca-')) });
    const file = writeConfig(`{ host: 127.0.0.1, port: ${sink.port}, tls: starttls, from: tocsin@example.com, maxAttempts: 2, retryBaseSeconds: 1 }`);
    pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file } });
  }, 90000);

  afterAll(async () => {
    const code = await pipeline?.stop();
    await sink?.close();
    expect(code).toBe(0);
  });

  it('says so at start, sends nothing, and dead-letters the email with the certificate error', async () => {
    await critical(pipeline, 'web');
    await until('the dead letters', () => deadLetters(pipeline).length >= 2, 30000, () => pipeline.logs().slice(-3000));
    expect(pipeline.logs()).toMatch(new RegExp(`^tocsin: SMTP 127\\.0\\.0\\.1:${sink.port} \\(tls starttls\\) does not answer as expected: .*certificate`, 'm'));
    expect(deadLetters(pipeline).map((d) => [d.address, d.attempts, d.reason])).toEqual(
      expect.arrayContaining([
        ['ops@example.com', 2, 'attempts exhausted'],
        ['lead@example.com', 2, 'attempts exhausted'],
      ]),
    );
    expect(deadLetters(pipeline)[0]!.error.message).toMatch(/certificate/);
    expect(sink.received).toEqual([]);
  }, 60000);
});

describe('a login the server refuses', () => {
  let sink: SmtpSink;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    sink = await startSmtpSink({ tls: 'none', auth: { user: 'tocsin', pass: PASSWORD } });
    const file = writeConfig(`{ host: 127.0.0.1, port: ${sink.port}, tls: none, from: tocsin@example.com, username: tocsin, passwordEnv: ${PASSWORD_ENV}, maxAttempts: 2, retryBaseSeconds: 1 }`);
    pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, [PASSWORD_ENV]: 'not-the-password-7f3a' } });
  }, 90000);

  afterAll(async () => {
    const code = await pipeline?.stop();
    await sink?.close();
    expect(code).toBe(0);
  });

  it('is reported at start, retried (the configuration, not the email, is wrong), then dead-lettered', async () => {
    await critical(pipeline, 'web');
    await until('the dead letters', () => deadLetters(pipeline).length >= 2, 30000, () => pipeline.logs().slice(-3000));
    expect(pipeline.logs()).toMatch(/^tocsin: SMTP 127\.0\.0\.1:\d+ \(tls none, user tocsin\) does not answer as expected: .*535/m);
    for (const letter of deadLetters(pipeline)) expect(letter).toMatchObject({ attempts: 2, reason: 'attempts exhausted', error: { responseCode: 535 } });
    expect(sink.authFailures()).toBeGreaterThanOrEqual(3); // the check at start, then each address twice (pooled)
    expect(sink.received).toEqual([]);
    expect(`${pipeline.output()}${pipeline.logs()}`).not.toContain('not-the-password-7f3a');
  }, 60000);
});

describe('start-up errors', () => {
  it('a password variable that is not set stops the start, naming the file, the key and its line', async () => {
    const file = writeConfig(`{ host: 127.0.0.1, port: 2525, tls: starttls, from: tocsin@example.com, username: tocsin, passwordEnv: ${PASSWORD_ENV}_UNSET }`);
    const start = startLocalPipeline({ env: { TOCSIN_CONFIG: file } });
    await expect(start).rejects.toThrow(`Invalid tocsin configuration ${file}:`);
    await expect(start).rejects.toThrow(new RegExp(`local\\.smtp\\.passwordEnv \\(line 17, column \\d+\\): the environment variable ${PASSWORD_ENV}_UNSET \\(the SMTP password\\) is not set`));
  }, 60000);

  it('without local.smtp, notifications are printed, and the banner says so', async () => {
    const file = join(tempDir('tocsin-e2e-smtp-'), 'tocsin.yaml');
    writeFileSync(file, 'clusters: [default]\nchannels:\n  oncall: { type: email, addresses: [ops@example.com] }\ndefaults: { channels: [oncall] }\n');
    const pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file } });
    try {
      expect(pipeline.output()).toContain(`# email: not sent (no local.smtp in ${file}): every notification is printed here`);
      await critical(pipeline, 'web');
      await until('the printed notification', () => pipeline.output().includes('=== notification ==='), 15000, pipeline.output);
      expect(pipeline.output()).toMatch(/Subject: \[tocsin default\] CRITICAL: /);
      // The record is another subscription's consumer: it may come after the print.
      await until('the recorded notification', () => recorded(pipeline, 'web').length > 0, 15000, pipeline.output);
      expect(recorded(pipeline, 'web')).toHaveLength(1);
    } finally {
      expect(await pipeline.stop()).toBe(0);
    }
  }, 60000);
});

describe('an email waiting for its retry when the runner is killed', () => {
  it('is sent once after the restart (the retry is a message of the durable bus)', async () => {
    const sink = await startSmtpSink({ tls: 'none', refuse: (rcpt, attempt) => (rcpt === 'flaky@example.com' && attempt === 1 ? 451 : undefined) });
    const file = writeConfig(`{ host: 127.0.0.1, port: ${sink.port}, tls: none, from: tocsin@example.com, maxAttempts: 5, retryBaseSeconds: 4, retryMaxSeconds: 4 }`);
    const first = await startLocalPipeline({ env: { TOCSIN_CONFIG: file }, inProcess: true });
    let second: LocalPipeline | undefined;
    try {
      await critical(first, 'flaky');
      await until('the refused first attempt', () => sink.attempts('flaky@example.com') >= 1, 15000, summary(sink));
      expect(await first.stop('SIGKILL')).toBeNull();
      expect(to(sink, 'flaky@example.com')).toEqual([]);
      second = await startLocalPipeline({ env: { TOCSIN_CONFIG: file }, dataDir: first.dataDir, inProcess: true });
      await until('the email after the restart', () => to(sink, 'flaky@example.com').length >= 1, 30000, () => `${summary(sink)()}\n${second!.logs().slice(-2000)}`);
      await sleep(3000); // a duplicate would show by now
      expect(to(sink, 'flaky@example.com')).toHaveLength(1);
      expect(sink.attempts('flaky@example.com')).toBe(2);
      expect(deadLetters(second)).toEqual([]);
    } finally {
      await first.stop('SIGKILL');
      await second?.stop();
      await sink.close();
    }
  }, 90000);
});
