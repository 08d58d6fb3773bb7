/**
 * Stream tokens: JWTs (HS256) that admit one subject to one stream in one
 * role. Verified with `jose`, never by hand; every way a token can be wrong
 * has its own error code, so a shop's backend can tell what to fix.
 *
 * `mintToken` is what an e-commerce backend (Node or Deno) calls, e.g.
 *
 *   const token = await mintToken(process.env.SIGNAL_SECRET, {
 *     sub: customer.id, stream: order.id, role: "viewer",
 *   }, { ttlSeconds: 3600 });
 */
import { errors, jwtVerify, SignJWT } from "jose";
import type { ErrorCode } from "../../protocol/error-codes.ts";

/** The only algorithm accepted: a token signed otherwise (or `none`) is refused. */
export const TOKEN_ALGORITHM = "HS256";
/** HS256 wants a key of at least 256 bits. */
export const MIN_SECRET_BYTES = 32;

export type StreamRole = "broadcaster" | "viewer";

/** What a stream token says. */
export interface StreamClaims {
  /** Subject: the user id in the shop's system. */
  sub: string;
  /** The one stream id the token is good for. */
  stream: string;
  role: StreamRole;
  /** Optional display name, for "watched by …" in the audit trail. */
  name?: string;
  /** Broadcaster tokens only: fewer viewers than MAX_VIEWERS_PER_STREAM. */
  maxViewers?: number;
}

export interface MintOptions {
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
  /** Seconds from now before which the token is not valid (default 0). */
  notBeforeSeconds?: number;
}

/** Signs a stream token with `secret` (the server's SIGNAL_SECRET). */
export async function mintToken(
  secret: string,
  claims: StreamClaims,
  options: MintOptions = {},
): Promise<string> {
  const { sub, ...rest } = claims;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...rest })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600));
  if (options.notBeforeSeconds) {
    jwt.setNotBefore(now + options.notBeforeSeconds);
  }
  return await jwt.sign(secretKey(secret));
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export type Verified =
  | { ok: true; claims: StreamClaims }
  | { ok: false; code: ErrorCode; message: string };

/** Checks signature, algorithm, time, stream and role, in that order. */
export async function verifyToken(
  key: Uint8Array,
  token: string,
  expected: { streamId: string; role: StreamRole },
): Promise<Verified> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: [TOKEN_ALGORITHM],
      requiredClaims: ["sub", "exp"],
    }));
  } catch (error) {
    return refusal(error);
  }
  const { sub, stream, role, name, maxViewers } = payload;
  if (typeof sub !== "string" || typeof stream !== "string") {
    return {
      ok: false,
      code: "token-malformed",
      message: "Token needs string claims `sub` and `stream`",
    };
  }
  if (stream !== expected.streamId) {
    return {
      ok: false,
      code: "token-wrong-stream",
      message: "Token is for another stream",
    };
  }
  if (role !== expected.role) {
    return {
      ok: false,
      code: "token-wrong-role",
      message: `Token is not for a ${expected.role}`,
    };
  }
  return {
    ok: true,
    claims: {
      sub,
      stream,
      role: role as StreamRole,
      ...(typeof name === "string" ? { name: name.slice(0, 128) } : {}),
      ...(Number.isSafeInteger(maxViewers) && (maxViewers as number) > 0
        ? { maxViewers: maxViewers as number }
        : {}),
    },
  };
}

function refusal(error: unknown): Verified {
  if (error instanceof errors.JWTExpired) {
    return { ok: false, code: "token-expired", message: "Token has expired" };
  }
  if (
    error instanceof errors.JWTClaimValidationFailed && error.claim === "nbf"
  ) {
    return {
      ok: false,
      code: "token-not-yet-valid",
      message: "Token is not valid yet",
    };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return {
      ok: false,
      code: "token-algorithm",
      message: `Token must be signed with ${TOKEN_ALGORITHM}`,
    };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return {
      ok: false,
      code: "token-signature",
      message: "Token signature does not verify",
    };
  }
  return { ok: false, code: "token-malformed", message: "Token is malformed" };
}
