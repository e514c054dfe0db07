/**
 * The names of the operator's-view commands (commands/alerts.ts), apart from their module so
 * that the CLI's dispatcher can tell them without loading it (bin/tocsin-cli.ts).
 */
export const ALERT_COMMANDS = ['alerts', 'history', 'ack', 'unack'] as const;
export type AlertCommand = (typeof ALERT_COMMANDS)[number];
