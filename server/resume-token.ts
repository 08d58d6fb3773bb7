/**
 * Resume claims: a short-lived token the server hands a client in a stream,
 * which the client presents when it reconnects (`/ws?resume=…`) to keep its
 * client id and take its place back. Signed with HMAC-SHA256, so a restarted
 * server, or another node with the same secret, verifies it without shared
 * memory; bound to client id, stream and role, so it cannot be used for
 * another stream or to change role.
 *
 * Format: `v1.<base64url(JSON claims)>.<base64url(HMAC of "v1.<claims>")>`.
 * Synchronous (node:crypto): it is checked during the WebSocket upgrade.
 */
import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Role } from "./stream-registry.ts";

export interface ResumeClaims {
  clientId: string;
  streamId: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export type ResumeCheck =
  | { ok: true; claims: ResumeClaims }
  | { ok: false; reason: "malformed" | "signature" | "expired" };

const VERSION = "v1";
/** Longest token accepted before any work: ours are ~170 characters. */
export const MAX_RESUME_LENGTH = 512;
const CLIENT_ID = /^client_[0-9a-z]{12}$/;

export class ResumeTokens {
  #key: Uint8Array;
  #ttlSeconds: number;

  /**
   * `secret`: RESUME_SECRET, else one derived from SIGNAL_SECRET; without
   * either a random key of this process, so claims survive a reconnect but
   * not a restart.
   */
  constructor(secret: string | undefined, ttlSeconds: number) {
    this.#key = secret
      ? createHmac("sha256", secret).update("live-widgets resume v1").digest()
      : randomBytes(32);
    this.#ttlSeconds = ttlSeconds;
  }

  issue(
    claims: Omit<ResumeClaims, "exp">,
    now: number = Date.now(),
  ): string {
    const body = base64url(
      JSON.stringify({
        clientId: claims.clientId,
        streamId: claims.streamId,
        role: claims.role,
        exp: Math.floor(now / 1000) + this.#ttlSeconds,
      }),
    );
    return `${VERSION}.${body}.${this.#sign(body)}`;
  }

  verify(token: string, now: number = Date.now()): ResumeCheck {
    if (token.length > MAX_RESUME_LENGTH) return refused("malformed");
    const [version, body, signature, extra] = token.split(".");
    if (version !== VERSION || !body || !signature || extra !== undefined) {
      return refused("malformed");
    }
    const expected = Buffer.from(this.#sign(body));
    const given = Buffer.from(signature);
    if (
      expected.length !== given.length || !timingSafeEqual(expected, given)
    ) {
      return refused("signature");
    }
    let claims: ResumeClaims;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return refused("malformed");
    }
    if (
      typeof claims !== "object" || claims === null ||
      typeof claims.clientId !== "string" || !CLIENT_ID.test(claims.clientId) ||
      typeof claims.streamId !== "string" ||
      (claims.role !== "broadcaster" && claims.role !== "viewer") ||
      typeof claims.exp !== "number"
    ) {
      return refused("malformed");
    }
    if (claims.exp * 1000 <= now) return refused("expired");
    return { ok: true, claims };
  }

  #sign(body: string): string {
    return createHmac("sha256", this.#key).update(`${VERSION}.${body}`)
      .digest("base64url");
  }
}

function refused(reason: "malformed" | "signature" | "expired"): ResumeCheck {
  return { ok: false, reason };
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
