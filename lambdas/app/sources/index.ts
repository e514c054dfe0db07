/** Registry: `${source}/${type}` -> the handler for it. One line per supported input. */
import type { SourceHandler } from './types';
import { consulChecks } from './consul-checks';

export const SOURCE_HANDLERS: Readonly<Record<string, SourceHandler>> = {
  'consul/checks': consulChecks,
};

export function handlerFor(source: string, type: string): SourceHandler | undefined {
  return Object.prototype.hasOwnProperty.call(SOURCE_HANDLERS, `${source}/${type}`) ? SOURCE_HANDLERS[`${source}/${type}`] : undefined;
}

export type { SourceContext, SourceHandler, SourceResult } from './types';
