/**
 * What one kind of alert can say in the fields rules and silences match on with a closed
 * set of values: `source`, `kind`, `severity`, `from` and `to` (`status` is `to`). Each
 * source declares its vocabulary next to the code that builds its alerts, from its own
 * constants, and builds those alerts through it, so that the compiler refuses a value the
 * vocabulary does not list (`consul/decision.ts` buildAlert, `serf/members.ts` ...).
 * `rules/vocabulary.ts` gathers them: tocsin.yaml and silences may only name values some
 * alert can carry (a rule for `kind: chek` would otherwise match nothing, silently).
 */
import type { Severity, Source } from './types';

export interface AlertVocabulary {
  readonly source: Source;
  readonly kind: string;
  /** Severities the source proposes for this kind (the rule's own `severity` comes later). */
  readonly severity: readonly Severity[];
  /** `to` (and `status`) values. */
  readonly to: readonly string[];
  /** `from` values. */
  readonly from: readonly string[];
  /** Whether an alert of this kind can come without `from` (a subject seen for the first time, an event). */
  readonly fromMayBeAbsent: boolean;
}

/** Declares a vocabulary, keeping its literal values as types (`ValueOf<typeof X['to']>`). */
export function alertVocabulary<const V extends AlertVocabulary>(vocabulary: V): V {
  return vocabulary;
}

/** The values of one of a vocabulary's lists, as a union type. */
export type ValueOf<L extends readonly string[]> = L[number];
