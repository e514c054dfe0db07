/**
 * SNS subscription filter policies, the part the stack uses (lambdas/commons/deployment.ts
 * channelFilterPolicy, channels/slack/infra.ts): `{ "<attribute>": ["<value>", ...] }`, every
 * key must match; a String attribute matches when it equals one of the values, a String.Array
 * attribute when one of its elements does; a message without the attribute does not match.
 * Anything else (operators such as prefix or anything-but) is refused when subscribing, so a
 * policy never silently matches nothing.
 */

/** A message attribute as SNS carries it. */
export interface MessageAttribute {
  readonly DataType: 'String' | 'String.Array';
  readonly StringValue: string;
}

export type MessageAttributes = Readonly<Record<string, MessageAttribute>>;

export type FilterPolicy = Readonly<Record<string, readonly string[]>>;

/** Throws unless `policy` is one this bus evaluates exactly as SNS would. */
export function checkFilterPolicy(policy: unknown): FilterPolicy {
  if (!policy || typeof policy !== 'object' || Array.isArray(policy)) throw new Error('a filter policy is an object of attribute -> allowed values');
  for (const [name, allowed] of Object.entries(policy)) {
    if (!Array.isArray(allowed) || allowed.length === 0 || !allowed.every((v) => typeof v === 'string')) {
      throw new Error(`filter policy ${name}: only a non-empty list of exact string values is supported`);
    }
  }
  return policy as FilterPolicy;
}

/** The attribute's values: one for String, each element for String.Array (unreadable: none). */
function valuesOf(attribute: MessageAttribute): string[] {
  if (attribute.DataType === 'String') return [attribute.StringValue];
  try {
    const list = JSON.parse(attribute.StringValue) as unknown;
    return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export function matchesFilterPolicy(policy: FilterPolicy | undefined, attributes: MessageAttributes): boolean {
  if (!policy) return true;
  return Object.entries(policy).every(([name, allowed]) => {
    const attribute = attributes[name];
    return attribute !== undefined && valuesOf(attribute).some((v) => allowed.includes(v));
  });
}
