/** One JSON object per line: what CloudWatch Logs Insights and `npm start` both read well. */
import type { Logger } from '../app/runtime';

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ level, message, time: new Date().toISOString(), ...fields }));
  return { info: log('info'), error: log('error') };
}
