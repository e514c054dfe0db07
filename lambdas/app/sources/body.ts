import { LIMITS } from '../../domain/protocol';
import { InputError } from '../../domain/input-errors';
import { envelopeBodyText } from '../../domain/envelope';
import { jsonDepthExceeds, parseWellFormedJson } from '../../domain/input-limits';
import type { Envelope } from '../../domain/types';

/** The handler's stdin parsed as JSON, or a 400 naming what was wrong. */
export function parseBodyJson(envelope: Envelope, what: string): unknown {
  const text = envelopeBodyText(envelope);
  // Before parsing: nothing downstream (DynamoDB allows 32 levels per item) has to cope with more.
  if (jsonDepthExceeds(text, LIMITS.maxJsonDepth)) throw new InputError(`${what} nests arrays/objects deeper than ${LIMITS.maxJsonDepth} levels`);
  try {
    return parseWellFormedJson(text);
  } catch (err) {
    throw new InputError(`${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}
