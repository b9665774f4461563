// Who asked and who decided: ids are checked for hidden characters and compared after trim + NFKC + case fold.
import { invalidInput } from './validation.js';

/** The longest requester or reviewer id accepted. */
export const MAX_IDENTITY_LENGTH = 256;

/**
 * Control, format (zero-width U+200B–U+200D, U+2060, U+FEFF, bidi marks), default-ignorable and
 * line/paragraph separator characters: invisible in a UI, so an id containing one could pass for another.
 */
const hiddenCharacter = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;

/**
 * Checks a requester or reviewer id and returns it as given. Throws `HitlError('invalid_input')`
 * naming the field when it is not a string, is blank, is too long, or hides characters.
 */
export function requireIdentity(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidInput(field, value, 'must be a non-empty string');
  if (value.length > MAX_IDENTITY_LENGTH) throw invalidInput(field, value, `is longer than ${MAX_IDENTITY_LENGTH} characters`);
  const hidden = hiddenCharacter.exec(value);
  if (hidden) {
    const code = `U+${(hidden[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw invalidInput(field, value, `contains the invisible or control character ${code} at position ${hidden.index}`);
  }
  return value;
}

/**
 * The form two ids are compared in: trimmed, Unicode NFKC (full-width and compatibility forms fold
 * to plain ones, NFD to NFC) and case-folded (upper then lower case, so `ß` and `SS` meet too).
 * Folding errs toward "same person", the safe side for the no-self-approval rule.
 *
 * @example
 * ```ts
 * identityKey(' Ａｌｉｃｅ') === identityKey('alice'); // true
 * ```
 */
export function identityKey(id: string): string {
  return id.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim();
}

/** True when two ids name the same person (see {@link identityKey}). */
export function sameIdentity(left: string, right: string): boolean {
  return identityKey(left) === identityKey(right);
}
