/**
 * Typed events fired by the elements. All bubble and cross shadow roots
 * (`composed`), and are registered on `GlobalEventHandlersEventMap` so
 * `el.addEventListener('live-state-change', e => e.state)` is typed.
 */
import type { LiveErrorCode } from "./session/error-policy.ts";

// Fields are `declare`d: each constructor sets them (own properties, as
// class fields would make them, without a second definition in the bundle).

/** The element's `state` changed. */
export class LiveStateChangeEvent<S extends string = string> extends Event {
  static readonly eventName = "live-state-change";
  declare readonly state: S;
  declare readonly previous: S;
  constructor(state: S, previous: S) {
    super(LiveStateChangeEvent.eventName, { bubbles: true, composed: true });
    this.state = state;
    this.previous = previous;
  }
}

/** Something went wrong that the person or the page may act on. */
export class LiveErrorEvent extends Event {
  static readonly eventName = "live-error";
  /** A stable code: a server `error` code, a camera error code, or the element's own (`signaling-unavailable`, `token-provider-failed`, `turn-auth-failed`, `missing-stream-id`, `negotiation-failed`, `e2ee-key-invalid`, `e2ee-unsupported`, `e2ee-decrypt-failed`). */
  declare readonly code: LiveErrorCode;
  declare readonly message: string;
  declare readonly cause: unknown;
  constructor(code: LiveErrorCode, message: string, cause?: unknown) {
    super(LiveErrorEvent.eventName, { bubbles: true, composed: true });
    this.code = code;
    this.message = message;
    this.cause = cause;
  }
}

/** On `<live-broadcaster>`: a viewer arrived (`viewer-joined`) or left (`viewer-left`). */
export class ViewerEvent extends Event {
  declare readonly viewerId: string;
  declare readonly viewerCount: number;
  constructor(
    type: "viewer-joined" | "viewer-left",
    viewerId: string,
    viewerCount: number,
  ) {
    super(type, { bubbles: true, composed: true });
    this.viewerId = viewerId;
    this.viewerCount = viewerCount;
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    "live-state-change": LiveStateChangeEvent;
    "live-error": LiveErrorEvent;
    "viewer-joined": ViewerEvent;
    "viewer-left": ViewerEvent;
  }
}
