/**
 * `local.smtp` of tocsin.yaml: what the loader accepts, the errors (file, path, line) it
 * gives for what it does not, the defaults, what the runner reads at start (password from
 * the environment, CA file), and the retry rules of smtp-retry.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSmtpSettings, smtpSecrets, type SmtpSettings } from '../../channels/email/smtp-config';
import { failureVerdict, isPermanent, retryDelaySeconds, smtpFailure } from '../../channels/email/smtp-retry';
import { parseConfigText } from '../../lambdas/commons/config-file';

const FILE = '/etc/tocsin/tocsin.yaml';
const parse = (smtp: string) => parseConfigText(`clusters: [a]\nlocal:\n  smtp:\n${smtp.replace(/^/gm, '    ')}\n`, FILE);
const VALID = 'host: smtp.example.com\ntls: starttls\nfrom: Tocsin <tocsin@example.com>';

describe('local.smtp errors: the file, the path, the line, the reason', () => {
  test.each([
    ['host missing', 'tls: starttls\nfrom: a@b.c', 'local.smtp (line 4, column 5): "host" is required'],
    ['tls missing', 'host: h\nfrom: a@b.c', 'local.smtp (line 4, column 5): "tls" is required'],
    ['from missing', 'host: h\ntls: none', 'local.smtp (line 4, column 5): "from" is required'],
    ['unknown tls mode', 'host: h\ntls: ssl\nfrom: a@b.c', 'local.smtp.tls (line 5, column 10): must be one of "none", "starttls", "implicit"'],
    ['port out of range', `${VALID}\nport: 70000`, 'local.smtp.port (line 7, column 11): must be <= 65535'],
    ['port not a number', `${VALID}\nport: "587"`, 'local.smtp.port (line 7, column 11): must be integer'],
    ['a password in the file', `${VALID}\npassword: hunter2`, 'local.smtp (line 4, column 5): unknown key "password"'],
    ['username without passwordEnv', `${VALID}\nusername: u`, 'local.smtp (line 4, column 5): must have property passwordEnv when property username is present'],
    ['passwordEnv without username', `${VALID}\npasswordEnv: P`, 'local.smtp (line 4, column 5): must have property username when property passwordEnv is present'],
    ['passwordEnv not a variable name', `${VALID}\nusername: u\npasswordEnv: "my password"`, 'local.smtp.passwordEnv (line 8, column 18): must match pattern'],
    ['from not an address', 'host: h\ntls: none\nfrom: tocsin', 'local.smtp.from (line 6, column 11): must be one address ("ops@example.com") or a name and one address ("Tocsin <ops@example.com>")'],
    ['from two addresses', 'host: h\ntls: none\nfrom: a@b.c, d@e.f', 'local.smtp.from (line 6, column 11): must be one address'],
    ['a password in clear to another machine', 'host: smtp.example.com\ntls: none\nfrom: a@b.c\nusername: u\npasswordEnv: P', 'local.smtp.tls (line 5, column 10): tls none would send the password in clear to smtp.example.com: use starttls or implicit'],
    ['retry cap below the first wait', `${VALID}\nretryBaseSeconds: 60\nretryMaxSeconds: 30`, 'local.smtp.retryMaxSeconds (line 8, column 22): must be at least retryBaseSeconds (60)'],
    ['no attempt at all', `${VALID}\nmaxAttempts: 0`, 'local.smtp.maxAttempts (line 7, column 18): must be >= 1'],
    ['a host with a space', 'host: smtp example\ntls: none\nfrom: a@b.c', 'local.smtp.host (line 4, column 11): must match pattern'],
    ['unknown key under local', null, 'local (line 3, column 3): unknown key "smpt"'],
  ])('%s', (_name, smtp, message) => {
    const text = smtp === null ? 'clusters: [a]\nlocal:\n  smpt: {}\n' : undefined;
    const load = () => (text ? parseConfigText(text, FILE) : parse(smtp as string));
    expect(load).toThrow(`Invalid tocsin configuration ${FILE}:\n`);
    expect(load).toThrow(message);
  });

  test.each([
    ['the minimum', VALID],
    ['plain SMTP to a relay on this machine, with a login', 'host: 127.0.0.1\ntls: none\nfrom: a@b.c\nusername: u\npasswordEnv: P'],
    ['localhost, IPv6 loopback', 'host: "::1"\ntls: none\nfrom: a@b.c\nusername: u\npasswordEnv: P'],
    ['everything', `${VALID}\nport: 2525\nusername: tocsin\npasswordEnv: SMTP_PASSWORD\ncaFile: ca.pem\nmaxAttempts: 3\nretryBaseSeconds: 1\nretryMaxSeconds: 1`],
  ])('accepted: %s', (_name, smtp) => {
    expect(() => parse(smtp)).not.toThrow();
  });

  test('without local, there is nothing to read', () => {
    expect(parseConfigText('clusters: [a]\n', FILE).local).toEqual({});
  });
});

describe('settings with defaults', () => {
  test.each([
    ['none', 25],
    ['starttls', 587],
    ['implicit', 465],
  ])('tls %s: port %d by default', (tls, port) => {
    const raw = parse(`host: h\ntls: ${tls}\nfrom: a@b.c`).local.smtp!;
    expect(readSmtpSettings(raw, FILE)).toEqual({ host: 'h', port, tls, from: 'a@b.c', maxAttempts: 8, retryBaseSeconds: 10, retryMaxSeconds: 600 });
  });

  test('caFile is relative to the config file; an absolute one stays', () => {
    expect(readSmtpSettings(parse(`${VALID}\ncaFile: certs/ca.pem`).local.smtp!, FILE).caFile).toBe('/etc/tocsin/certs/ca.pem');
    expect(readSmtpSettings(parse(`${VALID}\ncaFile: /srv/ca.pem`).local.smtp!, FILE).caFile).toBe('/srv/ca.pem');
  });
});

describe('smtpSecrets: what is read at start', () => {
  const settings: SmtpSettings = { host: 'h', port: 587, tls: 'starttls', from: 'a@b.c', username: 'u', passwordEnv: 'SMTP_PW', maxAttempts: 8, retryBaseSeconds: 10, retryMaxSeconds: 600 };
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-smtp-config-'));
  const pem = join(dir, 'ca.pem');
  writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const notPem = join(dir, 'ca.txt');
  writeFileSync(notPem, 'hello');

  test.each([
    ['the password from its variable', settings, { SMTP_PW: 's3cret' }, { secrets: { auth: { user: 'u', pass: 's3cret' } }, issues: [] }],
    ['no variable', settings, {}, { secrets: {}, issues: [{ path: ['passwordEnv'], reason: 'the environment variable SMTP_PW (the SMTP password) is not set' }] }],
    ['an empty variable', settings, { SMTP_PW: '' }, { secrets: {}, issues: [{ path: ['passwordEnv'], reason: 'the environment variable SMTP_PW (the SMTP password) is not set' }] }],
    ['no login', { ...settings, username: undefined, passwordEnv: undefined }, {}, { secrets: {}, issues: [] }],
    ['a CA file', { ...settings, caFile: pem }, { SMTP_PW: 'p' }, { secrets: { auth: { user: 'u', pass: 'p' }, ca: expect.stringContaining('BEGIN CERTIFICATE') }, issues: [] }],
    ['a missing CA file', { ...settings, caFile: join(dir, 'nope.pem') }, { SMTP_PW: 'p' }, { secrets: { auth: { user: 'u', pass: 'p' } }, issues: [{ path: ['caFile'], reason: `cannot read ${join(dir, 'nope.pem')}: ENOENT` }] }],
    ['a CA file without a certificate', { ...settings, caFile: notPem }, { SMTP_PW: 'p' }, { secrets: expect.anything(), issues: [{ path: ['caFile'], reason: `${notPem} holds no PEM certificate` }] }],
  ])('%s', (_name, s, env, expected) => {
    expect(smtpSecrets(s as SmtpSettings, env)).toEqual(expected);
  });
});

describe('retries: permanent refusals, backoff, the last attempt', () => {
  const settings = { maxAttempts: 5, retryBaseSeconds: 10, retryMaxSeconds: 60 };
  const error = (fields: object) => smtpFailure(Object.assign(new Error('x'), fields));

  test.each([
    ['550 no such user', { code: 'EENVELOPE', responseCode: 550 }, true],
    ['554 message refused', { code: 'EMESSAGE', responseCode: 554 }, true],
    ['451 try again', { code: 'EENVELOPE', responseCode: 451 }, false],
    ['452 mailbox full for now', { code: 'EENVELOPE', responseCode: 452 }, false],
    ['535 bad login: the configuration, not the email', { code: 'EAUTH', responseCode: 535 }, false],
    ['connection refused', { code: 'ESOCKET' }, false],
    ['timeout', { code: 'ETIMEDOUT' }, false],
    ['certificate not trusted', { code: 'ESOCKET', message: 'self-signed certificate in certificate chain' }, false],
  ])('%s: permanent %s', (_name, fields, permanent) => {
    expect(isPermanent(error(fields))).toBe(permanent);
  });

  test.each([
    [1, { retryAfterSeconds: 10 }],
    [2, { retryAfterSeconds: 20 }],
    [3, { retryAfterSeconds: 40 }],
    [4, { retryAfterSeconds: 60 }],
    [5, { deadLetter: 'attempts exhausted' }],
    [9, { deadLetter: 'attempts exhausted' }],
  ])('a 451 at attempt %d', (attempt, verdict) => {
    expect(failureVerdict(error({ responseCode: 451 }), attempt, settings)).toEqual(verdict);
  });

  test('a permanent refusal is not retried, whatever the attempt', () => {
    expect(failureVerdict(error({ responseCode: 550 }), 1, settings)).toEqual({ deadLetter: 'permanent' });
  });

  test('the defaults: 10 s doubling to 10 min', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelaySeconds(a, { retryBaseSeconds: 10, retryMaxSeconds: 600 }))).toEqual([10, 20, 40, 80, 160, 320, 600, 600]);
  });

  test('what a failure keeps of a nodemailer error', () => {
    expect(smtpFailure(Object.assign(new Error('Can\'t send mail'), { code: 'EENVELOPE', responseCode: 451, response: '451 Try again later', command: 'RCPT TO' }))).toEqual({
      message: "Can't send mail",
      code: 'EENVELOPE',
      responseCode: 451,
      response: '451 Try again later',
    });
    expect(smtpFailure('boom')).toEqual({ message: 'boom' });
  });
});
