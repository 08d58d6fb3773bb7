/**
 * Which string explains an error code: its name in camelCase, but for a few.
 * Not a key per row of the error tables (error-policy.ts), which each bundle
 * would hold: the viewer reads one only in its `error` state, so this module
 * is in its error texts' chunk (viewer-error-texts.ts). A module of its own:
 * one the viewer's bundle also imported would become a chunk both share.
 */
import type {
  ErrorKey,
  RuledCode,
  ViewerOnlyCode,
} from "../session/error-policy.ts";

/** The codes whose string is not their name in camelCase (nor a token's or an e2ee code's). */
const KEYS = {
  "token-expired": "authExpired",
  "cluster-unavailable": "signalingUnavailable",
  "join-rate-limited": "tooManyAttempts",
  "invalid-field": "viewerError",
  "stream-encrypted": "e2eeError",
} as const satisfies Partial<Record<RuledCode | ViewerOnlyCode, ErrorKey>>;

/** `a-b-c` as `aBC`. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** The string {@link errorKey} names for `Code`. */
type KeyOf<Code extends string> = Code extends keyof typeof KEYS
  ? (typeof KEYS)[Code]
  : Code extends `token-${string}` ? "notAuthorized"
  : Code extends `e2ee-${string}` ? "e2eeError"
  : CamelCase<Code>;

/** Each key a code with a row names: checked when compiled to be a string of either element. */
type Checked<Key extends ErrorKey> = Key;
export type RuledKey = Checked<KeyOf<RuledCode | ViewerOnlyCode>>;

/**
 * The string that explains `code` (one with a row: the element shows its
 * generic text for any other, whose name in camelCase is none of its
 * strings; an inherited name, `constructor`, names no string either):
 * {@link KEYS}'s, a token's `notAuthorized`, an e2ee code's `e2eeError`,
 * else the code's name in camelCase (`stream-full`: `streamFull`).
 */
export function errorKey(code: string): ErrorKey {
  return (KEYS as Record<string, ErrorKey>)[code] ??
    (code.startsWith("token-")
      ? "notAuthorized"
      : code.startsWith("e2ee-")
      ? "e2eeError"
      : code.replace(/-./g, (dash) => dash[1].toUpperCase()) as ErrorKey);
}
