/** Durations in tocsin.yaml: a number of seconds, or "90s", "5m", "1h30m", "2d". */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Seconds, or undefined when the text is not a duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  const [, d, h, mi, s] = m;
  return Number(d ?? 0) * UNIT_SECONDS.d! + Number(h ?? 0) * UNIT_SECONDS.h! + Number(mi ?? 0) * UNIT_SECONDS.m! + Number(s ?? 0);
}

export function formatDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
