/**
 * Cheap guards applied to untrusted input before anything else looks at it:
 * JSON nesting depth (a linear scan, no recursion) and text that downstream
 * services refuse (lone surrogates, control characters).
 */

/**
 * True when `text` nests arrays/objects deeper than `maxDepth`. Brackets inside
 * strings do not count. The scan stops at the first level too deep, so hostile
 * input costs at most one pass; malformed JSON is left for JSON.parse to report.
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/**
 * Characters SNS and SQS refuse in subjects and message attributes (outside the
 * XML character range) and that the AWS SDK cannot URI-encode (lone surrogates).
 * Tab, LF and CR are kept.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** A `\uD800`-`\uDFFF` escape in JSON text: parsing it may produce a lone surrogate. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * `text` with lone surrogates replaced by U+FFFD (String.prototype.toWellFormed). Such
 * strings cannot be encoded as UTF-8: the AWS SDK's query encoding throws on them, and
 * what DynamoDB makes of them is unspecified.
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}

/** JSON.parse, with every string and key well-formed (input-limits.ts wellFormed). */
export function parseWellFormedJson(text: string): unknown {
  if (!SURROGATE_ESCAPE.test(text)) return JSON.parse(text); // the common case costs one scan
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'string') return wellFormed(value);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const keys = Object.keys(value);
    if (!keys.some((k) => wellFormed(k) !== k)) return value;
    return Object.fromEntries(keys.map((k) => [wellFormed(k), (value as Record<string, unknown>)[k]]));
  });
}

/** `text` with every unsafe character replaced by U+FFFD. */
export function safeText(text: string): string {
  // Every field of every check passes here: a plain scan finds the (usual) clean text
  // several times faster than the regex, which only runs when something may need replacing
  // (including valid surrogate pairs, which it keeps).
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 ? c !== 0x09 && c !== 0x0a && c !== 0x0d : c >= 0xd800 && (c <= 0xdfff || c >= 0xfffe)) return text.replace(UNSAFE_TEXT, '\ufffd');
  }
  return text;
}

/** At most `max` UTF-16 units, never ending in half a surrogate pair. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
