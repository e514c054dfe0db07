/**
 * An item's size as DynamoDB counts it against its 400 KB item limit and for capacity
 * units (developer guide, "Item sizes and formats"): per attribute its name's UTF-8 bytes
 * plus its value's size. Strings and binaries: their bytes; numbers: 1 byte per two
 * significant digits, plus 1; booleans and nulls: 1; sets: the sum of their elements;
 * lists and maps: 3 bytes, plus 1 per element, plus the elements (and a map's keys).
 */
export function dynamoItemSize(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function numberSize(n: number | bigint): number {
  const digits = String(n).replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce<number>((n, v) => n + valueSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((n, v) => n + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return 3 + entries.reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  }
  throw new Error(`no DynamoDB size for ${typeof value}`);
}
