/**
 * Parse the stdin of a Serf member event (`cmd/serf/command/agent/invoke.go`):
 *
 *     NAME \t ADDR \t ROLE \t k=v,k=v \n        one line per member
 *
 * - NAME, ROLE and the whole tag string pass through Serf's `eventClean`: a TAB becomes
 *   the two characters `\t`, a LF the two characters `\n`. Backslashes are NOT escaped,
 *   so a literal backslash-t in a tag is indistinguishable from an escaped TAB; we
 *   unescape both the same way (after splitting, so escaped TABs never split fields).
 * - ADDR is Go's net.IP.String(): dotted IPv4, IPv6 without brackets (`::1`,
 *   `fe80::1`), `<nil>` when unknown. It contains no TAB, so IPv6 colons are harmless.
 * - Tags are `name=value` joined by `,` in Go map order (varies between lines and
 *   agents). Neither `=` nor `,` is escaped, so the split is ambiguous. Heuristic:
 *   a `,` separates two tags only when the text after it looks like `key=` (a key is
 *   [A-Za-z0-9_] followed by [A-Za-z0-9_.:/-], then `=`); the key is what precedes the
 *   FIRST `=` of a tag. So `k=a,b`, `k=x=y`, `url=http://h/?a=1` and `k=a,,b` parse as
 *   one tag; only a value containing `,word=` is split in two. The ROLE column is the
 *   exact value of the `role` tag: when the heuristic disagrees with it, the `role=ROLE`
 *   pair is cut out first and the text on each side parsed on its own.
 * - No tags: `name\taddr\t\t` (empty role, empty tag string).
 *
 * The change fingerprint does not depend on the heuristic: it hashes the address, the
 * role and the SORTED multiset of raw comma-separated segments, which is the same
 * whatever order Go's map iteration produced.
 */
import { createHash } from 'node:crypto';
import type { Rejection } from '../input-errors';

export interface MemberLine {
  name: string;
  addr: string;
  role: string;
  tags: Record<string, string>;
  /** True when a tag value contains `,` (the split could have gone another way). */
  ambiguousTags: boolean;
  /** Identity of addr + role + tags, independent of tag order. */
  fingerprint: string;
}

export interface ParsedMembers {
  members: MemberLine[];
  rejected: Rejection[];
}

/** Longest role / tag string we keep (Serf's own limit is 512 bytes of tags). */
const MAX_FIELD_CHARS = 4096;
/** Member names become part of a DynamoDB sort key (at most 1024 bytes). */
export const MAX_MEMBER_NAME_BYTES = 512;
const KEY_START = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*=/;

export function unescapeField(value: string): string {
  return value.replace(/\\([tn])/g, (_m, c: string) => (c === 't' ? '\t' : '\n'));
}

/** Heuristic split of a (still escaped) tag string; see the module comment. */
function splitPairs(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  const pairs: Array<[string, string[]]> = [];
  for (const segment of raw.split(',')) {
    const last = pairs[pairs.length - 1];
    if (last && !KEY_START.test(segment)) {
      last[1].push(segment);
      continue;
    }
    const eq = segment.indexOf('=');
    pairs.push(eq === -1 ? [segment, []] : [segment.slice(0, eq), [segment.slice(eq + 1)]]);
  }
  return pairs.map(([k, parts]) => [k, parts.join(',')]);
}

/** Finds `role=<role>` bounded by the start or `,` on the left and `,` or the end on the right. */
function cutRole(raw: string, role: string): [string, string] | undefined {
  const needle = `role=${role}`;
  for (let at = raw.indexOf(needle); at !== -1; at = raw.indexOf(needle, at + 1)) {
    const end = at + needle.length;
    if ((at === 0 || raw[at - 1] === ',') && (end === raw.length || raw[end] === ',')) {
      return [raw.slice(0, Math.max(0, at - 1)), raw.slice(end + 1)];
    }
  }
  return undefined;
}

/** Tags from the escaped tag column; `role` is the escaped ROLE column. */
export function parseTags(raw: string, role = ''): { tags: Record<string, string>; ambiguous: boolean } {
  let pairs = splitPairs(raw);
  const parsedRole = pairs.find(([k]) => k === 'role')?.[1];
  if (role !== '' && parsedRole !== role) {
    const cut = cutRole(raw, role);
    if (cut) pairs = [...splitPairs(cut[0]), ['role', role], ...splitPairs(cut[1])];
  }
  const tags: Record<string, string> = {};
  let ambiguous = false;
  for (const [k, v] of pairs) {
    if (v.includes(',')) ambiguous = true;
    const key = unescapeField(k);
    if (Object.prototype.hasOwnProperty.call(tags, key)) ambiguous = true;
    else tags[key] = unescapeField(v);
  }
  return { tags, ambiguous };
}

export function memberFingerprint(addr: string, role: string, rawTags: string): string {
  const segments = rawTags === '' ? [] : rawTags.split(',').sort();
  return createHash('sha256').update([addr, role, ...segments].join('\u0000')).digest('hex').slice(0, 16);
}

export function parseMemberLine(line: string): MemberLine {
  const fields = line.split('\t');
  if (fields.length !== 4) throw new MemberLineError(`expected 4 TAB-separated fields (name, address, role, tags), got ${fields.length}`);
  const [rawName, addr, rawRole, rawTags] = fields as [string, string, string, string];
  if (rawName === '') throw new MemberLineError('member name is empty');
  if (Buffer.byteLength(rawName) > MAX_MEMBER_NAME_BYTES) throw new MemberLineError(`member name exceeds ${MAX_MEMBER_NAME_BYTES} bytes`);
  if (addr === '' || /\s/.test(addr) || addr.length > 64) throw new MemberLineError('member address is missing or malformed');
  if (rawName.length > MAX_FIELD_CHARS || rawRole.length > MAX_FIELD_CHARS || rawTags.length > MAX_FIELD_CHARS) {
    throw new MemberLineError(`a field exceeds ${MAX_FIELD_CHARS} characters`);
  }
  const { tags, ambiguous } = parseTags(rawTags, rawRole);
  return {
    name: unescapeField(rawName),
    addr,
    role: unescapeField(rawRole),
    tags,
    ambiguousTags: ambiguous,
    fingerprint: memberFingerprint(addr, rawRole, rawTags),
  };
}

export class MemberLineError extends Error {}

/**
 * All members of one invocation. A malformed line is rejected on its own (index =
 * line number from 0); a member named twice keeps its last line.
 */
export function parseMemberLines(text: string): ParsedMembers {
  const byName = new Map<string, MemberLine>();
  const rejected: Rejection[] = [];
  text.split('\n').forEach((line, index) => {
    if (line === '') return;
    try {
      const member = parseMemberLine(line);
      byName.delete(member.name);
      byName.set(member.name, member);
    } catch (err) {
      if (!(err instanceof MemberLineError)) throw err;
      rejected.push({ index, reason: err.message });
    }
  });
  return { members: [...byName.values()], rejected };
}

/** Tags as one readable line, sorted by key; TAB/LF shown escaped again. */
export function formatTags(tags: Record<string, string>): string {
  const esc = (s: string) => s.replace(/\t/g, '\\t').replace(/\n/g, '\\n');
  return Object.keys(tags)
    .sort()
    .map((k) => `${esc(k)}=${esc(tags[k] as string)}`)
    .join(', ');
}
