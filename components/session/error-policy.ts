/**
 * Every error an element can meet, what each role does about it, and which
 * string explains it. The reactions are a table per role, so that each
 * bundle holds only its own (the viewer's has no camera rows). Adding a code
 * is a row in each (or one name in {@link LoggedCode}), and the compiler
 * asks for it: each table `satisfies` a record of every other code its role
 * can meet. Which string explains a code is ui/error-keys.ts's.
 */
import type { ErrorCode } from "../../protocol/error-codes.ts";
import type { BroadcasterStrings } from "../ui/broadcaster-strings.ts";
import type { CameraErrorCode } from "../media/camera-errors.ts";
import type { ViewerStrings } from "../ui/viewer-strings.ts";

/** Failures an element finds by itself rather than hears from the server. */
export type ClientErrorCode =
  | "signaling-unavailable"
  | "token-provider-failed"
  | "turn-auth-failed"
  | "missing-stream-id"
  /** The browser refused the other side's offer or answer (negotiation-retry.ts). */
  | "negotiation-failed"
  /** `e2eeKey` (or a provider's key) is not a key (e2ee/keys.ts). */
  | "e2ee-key-invalid"
  /** No end-to-end encryption here: no encoded transforms, its code did not load, or `whip-url`. */
  | "e2ee-unsupported";

/**
 * Codes an element says as a state of its own rather than through its
 * table: the viewer's frames do not decrypt with its key (`cannot-decrypt`,
 * until one does).
 */
export type StateErrorCode = "e2ee-decrypt-failed";

/**
 * Server codes only a viewer is ever sent: the broadcaster's table has no
 * row (were one sent, it would be logged).
 */
export type ViewerOnlyCode = "stream-encrypted";

/** Every `live-error` code: the server's, the camera's and the element's own. */
export type LiveErrorCode =
  | ErrorCode
  | CameraErrorCode
  | ClientErrorCode
  | StateErrorCode;

export type Role = "broadcaster" | "viewer";

/** What an element does about an error. */
export type Reaction =
  /** Nothing retrying can fix: the error state, everything released, a `live-error`. */
  | { do: "fail" }
  /** Announce or join again after `afterMs`; if `shown`, the error state and a `live-error` meanwhile. */
  | { do: "retry"; afterMs: number; shown: boolean }
  /** Once per run with a fresh token from `tokenProvider`; without one, or a second time, `fail`. */
  | { do: "renew-token" }
  /**
   * When only relays may be used (`ice-transport-policy="relay"`), `then`
   * (`show`: the error state until "Try again" asks for fresh credentials);
   * otherwise a `live-error` and go on, since direct paths may still work.
   */
  | { do: "relay-only"; then: "fail" | "show" }
  /** The signaling client retries by itself with backoff; if `shown`, the error state and a `live-error` meanwhile. */
  | { do: "reconnect"; shown: boolean }
  /** Log and go on: one message was refused, the session is fine. */
  | { do: "warn" }
  /** A `live-error` and go on: it concerns one connection, which the element rebuilds itself. */
  | { do: "report" };

/** A key of either element's strings; the element without it shows its generic error. */
export type ErrorKey = keyof BroadcasterStrings | keyof ViewerStrings;

/** One role's table (the element passes its own): code to reaction. */
export type ErrorPolicy = Readonly<Record<string, Reaction>>;

const FAIL = { do: "fail" } as const;
const WARN = { do: "warn" } as const;
const RENEW = { do: "renew-token" } as const;
const QUIET_RETRY = { do: "retry", afterMs: 2_000, shown: false } as const;
/** A broadcaster refused for now (often its own stale session) asks again. */
const RETAKE = { do: "retry", afterMs: 5_000, shown: true } as const;

/**
 * Refusals of one message that do not concern the person: logged, and the
 * session goes on. Listed here rather than as rows (the table would name
 * each code in every bundle); the compiler still asks where a new code goes.
 */
export type LoggedCode =
  | "bad-json"
  | "binary-unsupported"
  | "bad-message"
  | "unknown-type"
  | "message-too-large"
  | "not-in-stream"
  | "wrong-role"
  | "unknown-viewer"
  | "no-broadcaster"
  | "rate-limited"
  | "internal-error"
  // A browser's own SDP is never refused; another client's is its bug.
  | "bad-sdp"
  // Sent only to viewers that watch through the SFU alone (WHEP players).
  | "sfu-unavailable"
  // The session drops its resume claim and goes on under the id it has.
  | "resume-refused";

/** The codes both roles meet with the same reaction. */
const SHARED = {
  "invalid-stream-id": FAIL,
  // A refused token, or no token where one is needed.
  "token-required": FAIL,
  "token-malformed": FAIL,
  "token-signature": FAIL,
  "token-algorithm": FAIL,
  "token-expired": RENEW,
  "token-not-yet-valid": FAIL,
  "token-wrong-stream": FAIL,
  "token-wrong-role": FAIL,
  // Our own newer session has the stream: stop, do not fight for it.
  "replaced": FAIL,
  "token-provider-failed": FAIL,
  "missing-stream-id": FAIL,
  // A cluster node lost Redis for a moment: ask again, say nothing yet.
  "cluster-unavailable": QUIET_RETRY,
  // No end-to-end encryption as the page asked: never a clear stream instead.
  "e2ee-key-invalid": FAIL,
  "e2ee-unsupported": FAIL,
} satisfies Partial<
  Record<
    Exclude<LiveErrorCode, LoggedCode | CameraErrorCode | StateErrorCode>,
    Reaction
  >
>;

/**
 * A role's table: the shared rows and its own. Pure: an object spread alone
 * would keep the other role's rows in each bundle (esbuild keeps a spread
 * as a possible side effect).
 */
/* @__NO_SIDE_EFFECTS__ */
function table<T extends Record<string, Reaction>>(
  own: T,
): typeof SHARED & T {
  return { ...SHARED, ...own };
}

/**
 * The broadcaster's table: every code but the logged ones (the compiler
 * asks for a new one).
 */
export const BROADCASTER_ERRORS = table({
  "invalid-field": WARN,
  "stream-taken": RETAKE,
  "stream-full": WARN,
  "join-rate-limited": RETAKE,
  // Only the broadcaster opens a camera.
  "permission-denied": FAIL,
  "no-camera": FAIL,
  "camera-in-use": FAIL,
  "insecure-context": FAIL,
  "camera-error": FAIL,
  // Said while retrying.
  "signaling-unavailable": { do: "reconnect", shown: true },
  // It keeps its camera: "Try again" brings fresh credentials.
  "turn-auth-failed": { do: "relay-only", then: "show" },
  // The element retries itself (negotiation-retry.ts); this row is the end
  // of it: the broadcaster leaves that one viewer.
  "negotiation-failed": { do: "report" },
}) satisfies Record<
  Exclude<LiveErrorCode, LoggedCode | StateErrorCode | ViewerOnlyCode>,
  Reaction
>;

/**
 * The viewer's table: the broadcaster's codes but the camera's (a viewer
 * opens none).
 */
export const VIEWER_ERRORS = table({
  // A viewer sends little besides its join: a malformed one will not heal.
  "invalid-field": FAIL,
  "stream-taken": WARN,
  "stream-full": FAIL,
  // The viewer keeps saying "connecting": it is, a little later.
  "join-rate-limited": { do: "retry", afterMs: 10_000, shown: false },
  // It says "connecting" meanwhile.
  "signaling-unavailable": { do: "reconnect", shown: false },
  "turn-auth-failed": { do: "relay-only", then: "fail" },
  // Its retries are spent: it gives up.
  "negotiation-failed": FAIL,
  // No key for an encrypted stream: it stays joined, unpaired, in its
  // `cannot-decrypt` state (live-viewer.ts).
  "stream-encrypted": { do: "report" },
}) satisfies Record<
  Exclude<LiveErrorCode, LoggedCode | CameraErrorCode | StateErrorCode>,
  Reaction
>;

/** The reaction to `code`: its row's, or logged (a {@link LoggedCode}, or unknown). */
export function reactionTo(code: string, policy: ErrorPolicy): Reaction {
  return Object.hasOwn(policy, code) ? policy[code] : WARN;
}

/** A code the broadcaster's table has a row for (the viewer's have fewer). */
export type RuledCode = keyof typeof BROADCASTER_ERRORS;

/** The table's word on a code it has a row for: the code, and what a role does. */
export interface Ruling {
  code: RuledCode;
  reaction: Reaction;
}
