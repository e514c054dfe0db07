/** Free text (check output, notes, payloads) shortened for an alert's details and titles. */
import { truncateText } from './input-limits';

/** `text` trimmed; longer than `max` characters it is cut and ends with "…". */
export function excerpt(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `${truncateText(trimmed, max - 1)}…`;
}
