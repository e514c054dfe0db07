/**
 * `tocsin heartbeat-config`: a systemd service + timer pair and a cron line that run
 * `tocsin-shim heartbeat` on every node, every `heartbeats.every` of tocsin.yaml. Pure:
 * options in, text out. The schedule rules are in docs/heartbeats.md.
 */
import { formatDuration } from '../../lambdas/domain/rules/duration';
import { shellQuote } from './agent-config';

export interface HeartbeatConfigOptions {
  cluster: string;
  shimPath: string;
  shimConfig: string;
  /** heartbeats.every, seconds. */
  every: number;
  /** Where `every` came from, for the header comment. */
  everyFrom: string;
  /** The agent's user: the shim's spool belongs to it. */
  user: string;
  /** The agent's systemd unit / process name; 'none': no guard. */
  agent: string;
}

/** Periods a calendar (systemd OnCalendar, cron) can repeat evenly: steps dividing a minute, an hour or a day. */
const SECOND_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const MINUTE_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12, 24];

/** The longest calendar period not longer than `every` (never less often than asked). */
export function calendarPeriod(every: number): { seconds: number; onCalendar: string } {
  const pick = (steps: number[], unit: number) => [...steps].reverse().find((s) => s * unit <= every);
  if (every < 60) {
    const s = pick(SECOND_STEPS, 1) ?? 1;
    return { seconds: s, onCalendar: `*-*-* *:*:00/${s}` };
  }
  if (every < 3600) {
    const m = pick(MINUTE_STEPS, 60) ?? 1;
    return { seconds: m * 60, onCalendar: m === 1 ? '*-*-* *:*:00' : `*-*-* *:00/${m}:00` };
  }
  const h = pick(HOUR_STEPS, 3600) ?? 1;
  return { seconds: h * 3600, onCalendar: h === 24 ? '*-*-* 00:00:00' : `*-*-* 00/${h}:00:00` };
}

/**
 * Each node's offset within the period, so that a fleet does not hit the API in the same
 * second (API Gateway throttles at 50 requests/s by default). At most 80% of the period:
 * where the offset is drawn afresh each time (systemd before 247), two heartbeats are
 * still less than 2 x every apart, and missingAfter is at least that.
 */
export function spreadSeconds(period: number): number {
  return Math.floor(period * 0.8);
}

export function heartbeatCommand(o: Pick<HeartbeatConfigOptions, 'shimPath' | 'shimConfig'>): string {
  return `${shellQuote(o.shimPath)} heartbeat --config ${shellQuote(o.shimConfig)}`;
}

export function systemdService(o: HeartbeatConfigOptions): string {
  const guard = o.agent !== 'none';
  const unit = o.agent.endsWith('.service') ? o.agent : `${o.agent}.service`;
  return [
    '[Unit]',
    `Description=tocsin heartbeat: tells tocsin this node can report (cluster ${o.cluster})`,
    `After=network-online.target${guard ? ` ${unit}` : ''}`,
    'Wants=network-online.target',
    ...(guard ? ['# Only while the agent runs: a stopped or dead agent stops the heartbeats, and tocsin notices.', `Requisite=${unit}`] : []),
    '',
    '[Service]',
    'Type=oneshot',
    `User=${o.user}`,
    `ExecStart=${heartbeatCommand(o)}`,
    '',
  ].join('\n');
}

export function systemdTimer(o: HeartbeatConfigOptions): string {
  const { seconds, onCalendar } = calendarPeriod(o.every);
  return [
    '[Unit]',
    `Description=tocsin heartbeat every ${formatDuration(seconds)}`,
    '',
    '[Timer]',
    `OnCalendar=${onCalendar}`,
    '# A fixed per-host offset within the period (FixedRandomDelay: systemd 247 or later).',
    `RandomizedDelaySec=${spreadSeconds(seconds)}`,
    'FixedRandomDelay=true',
    'AccuracySec=1s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** One /etc/cron.d line (with the user field). cron runs at most once a minute. */
export function cronLine(o: HeartbeatConfigOptions): string {
  const period = o.every < 60 ? 60 : calendarPeriod(o.every).seconds;
  const schedule = period < 3600 ? (period === 60 ? '* * * * *' : `*/${period / 60} * * * *`) : period === 86400 ? '0 0 * * *' : `0 */${period / 3600} * * *`;
  // A per-host offset from the host name; "%" must be escaped in a crontab.
  const offset = `sleep $(( $(hostname | cksum | cut -d" " -f1) \\% ${spreadSeconds(period)} ))`;
  const guard = o.agent !== 'none' ? `pgrep -x ${shellQuote(o.agent.replace(/\.service$/, ''))} >/dev/null && ` : '';
  return `${schedule} ${o.user} ${guard}${offset} && ${heartbeatCommand(o)}`;
}

export function heartbeatConfigText(o: HeartbeatConfigOptions): string {
  const { seconds } = calendarPeriod(o.every);
  const lines = [
    `# tocsin heartbeats for cluster "${o.cluster}": every ${formatDuration(o.every)} (${o.everyFrom})`,
    '# On every node, as the agent\'s user (the shim\'s spool belongs to it). The heartbeat reports',
    `# the node name of ${o.shimConfig} ("node", or TOCSIN_NODE, else the host name): it must be`,
    "# the name the node's watch and event handlers report, or tocsin sees two watchers.",
  ];
  if (seconds !== o.every) lines.push(`# ${formatDuration(o.every)} is not a calendar step: the timer runs every ${formatDuration(seconds)}.`);
  lines.push(
    '',
    '## systemd (recommended): /etc/systemd/system/tocsin-heartbeat.service',
    systemdService(o).trimEnd(),
    '',
    '## /etc/systemd/system/tocsin-heartbeat.timer',
    systemdTimer(o).trimEnd(),
    '',
    '## then: systemctl daemon-reload && systemctl enable --now tocsin-heartbeat.timer',
    '',
    '## or cron: /etc/cron.d/tocsin-heartbeat',
  );
  if (o.every < 60) lines.push(`# cron runs at most once a minute: with every ${formatDuration(o.every)} use the systemd timer (or set missingAfter to 2m or more).`);
  lines.push(cronLine(o));
  return `${lines.join('\n')}\n`;
}
