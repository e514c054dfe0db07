import { InputError } from '../../domain/consul-checks';
import { envelopeBodyText } from '../../domain/envelope';
import type { Envelope } from '../../domain/types';

/** The handler's stdin parsed as JSON, or a 400 naming what was wrong. */
export function parseBodyJson(envelope: Envelope, what: string): unknown {
  const text = envelopeBodyText(envelope);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}
