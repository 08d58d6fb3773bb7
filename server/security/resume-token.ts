/**
 * Resume claims: a short-lived token the server hands a client in a stream,
 * which the client presents when it reconnects (`/ws?resume=…`) to keep its
 * client id and take its place back. Signed with HMAC-SHA256, so a restarted
 * server, or another node with the same secret, verifies it without shared
 * memory; bound to client id, stream and role, so it cannot be used for
 * another stream or to change role.
 *
 * Format: `1~<clientId>~<b|v>~<exp>~<streamId>~<base64url HMAC of the rest>`;
 * `~` appears in none of the fields (stream ids are `[A-Za-z0-9._:-]`), and
 * the whole is URL-safe. Every join gets one, so it is made cheaply:
 * {@link KeyedMac} runs @noble/hashes' SHA-256 (audited, pure JS,
 * synchronous) from the key's states computed once, allocating nothing
 * per claim but the string (~3 µs). node:crypto's `createHmac` cost the
 * signaling benchmark ~15% of its CPU (its native objects and their
 * finalizers), a cloned noble HMAC ~8% (bench/RESULTS.md).
 */
import { Buffer } from "node:buffer";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Role } from "../signaling/directory.ts";
import { KeyedMac } from "./keyed-mac.ts";

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

const VERSION = "1";
/** Longest claim accepted before any work: ours are ~90 + stream id characters. */
export const MAX_RESUME_LENGTH = 512;
const CLAIM =
  /^1~(client_[0-9a-z]{12})~([bv])~(\d{1,12})~([A-Za-z0-9._:-]{1,128})~([A-Za-z0-9_-]{43})$/;
export class ResumeTokens {
  /** HMAC-SHA256 under the current key. */
  #keyed: KeyedMac;
  #ttlSeconds: number;

  /**
   * `secret`: RESUME_SECRET, else SIGNAL_SECRET (a key is derived from it,
   * never used as is); without either a random key, which the server
   * replaces with a kept one ({@link useSharedKey}).
   */
  constructor(secret: string | undefined, ttlSeconds: number) {
    const key = secret
      ? createHash("sha256").update("live-widgets resume v1\0").update(secret)
        .digest()
      : randomBytes(32);
    this.#keyed = new KeyedMac(key);
    this.#ttlSeconds = ttlSeconds;
  }

  /**
   * Replaces a random key with a kept one: the one the cluster shares (in
   * Redis), so a claim issued by one node verifies on every other, or one
   * node's (in STATE_DIR, state-key.ts), so it verifies after a restart.
   * Only for a server without RESUME_SECRET or SIGNAL_SECRET.
   */
  useSharedKey(hexKey: string): void {
    this.#keyed = new KeyedMac(Buffer.from(hexKey, "hex"));
  }

  /** How long a claim is valid. */
  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  issue(
    claims: Omit<ResumeClaims, "exp">,
    now: number = Date.now(),
  ): string {
    const exp = Math.floor(now / 1000) + this.#ttlSeconds;
    const body = `${VERSION}~${claims.clientId}~${
      claims.role === "broadcaster" ? "b" : "v"
    }~${exp}~${claims.streamId}`;
    return `${body}~${this.#mac(body)}`;
  }

  verify(token: string, now: number = Date.now()): ResumeCheck {
    if (token.length > MAX_RESUME_LENGTH) return refused("malformed");
    const match = CLAIM.exec(token);
    if (!match) return refused("malformed");
    const [, clientId, role, exp, streamId, mac] = match;
    const body = token.slice(0, token.length - mac.length - 1);
    const expected = Buffer.from(this.#mac(body));
    if (!timingSafeEqual(expected, Buffer.from(mac))) {
      return refused("signature");
    }
    if (Number(exp) * 1000 <= now) return refused("expired");
    return {
      ok: true,
      claims: {
        clientId,
        streamId,
        role: role === "b" ? "broadcaster" : "viewer",
        exp: Number(exp),
      },
    };
  }

  /** HMAC-SHA256 of `body`, base64url. */
  #mac(body: string): string {
    return this.#keyed.sign(body);
  }
}

function refused(reason: "malformed" | "signature" | "expired"): ResumeCheck {
  return { ok: false, reason };
}
