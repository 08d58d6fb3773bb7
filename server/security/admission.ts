/**
 * Who may announce or join, decided before the router touches a room: the
 * per-IP join rate, then (with SIGNAL_SECRET) the stream token, then (with
 * TURN) the client's time-limited TURN credentials. Synchronous in open mode
 * without TURN, so the common path costs no promise.
 */
import type { IceServer } from "../../protocol/messages.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";
import type { AuditTrail } from "../observe/audit.ts";
import type { IpLimits } from "./ip-limits.ts";
import type { Peer } from "../signaling/peer.ts";
import type { Identity, Role } from "../signaling/directory.ts";
import { verifyToken } from "./tokens.ts";
import type { TurnCredentials } from "./turn-credentials.ts";

export type Admitted = {
  ok: true;
  identity?: Identity;
  iceServers?: IceServer[];
};
export type Refused = { ok: false; error: ProtocolError };
export type Decision = Admitted | Refused;

export interface AdmissionOptions {
  ipLimits: IpLimits;
  audit: AuditTrail;
  /** SIGNAL_SECRET's bytes; undefined = open development mode. */
  tokenKey?: Uint8Array;
  turn?: TurnCredentials;
}

export class Admission {
  #options: AdmissionOptions;

  constructor(options: AdmissionOptions) {
    this.#options = options;
  }

  decide(
    peer: Peer,
    request: { streamId: string; token?: string },
    role: Role,
  ): Decision | Promise<Decision> {
    const type = role === "broadcaster" ? "broadcaster-ready" : "join-stream";
    if (
      !this.#options.ipLimits.allowJoin(peer.remoteAddress, performance.now())
    ) {
      return refused(
        "join-rate-limited",
        "Too many joins from this address; try again in a minute",
        type,
      );
    }
    const { tokenKey, turn } = this.#options;
    if (!tokenKey && !turn) return { ok: true };
    if (tokenKey && !request.token) {
      return refused("token-required", "This server requires a token", type);
    }
    return this.#verify(peer, request, role, type);
  }

  async #verify(
    peer: Peer,
    request: { streamId: string; token?: string },
    role: Role,
    type: string,
  ): Promise<Decision> {
    let identity: Identity | undefined;
    const { tokenKey, turn, audit } = this.#options;
    if (tokenKey) {
      const verified = await verifyToken(tokenKey, request.token!, {
        streamId: request.streamId,
        role,
      });
      if (!verified.ok) return refused(verified.code, verified.message, type);
      const { sub, name, maxViewers } = verified.claims;
      identity = { subject: sub, name, maxViewers };
      audit.record({
        kind: "admitted",
        clientId: peer.id,
        streamId: request.streamId,
        role,
        subject: sub,
        name,
        remoteAddress: peer.remoteAddress,
      });
    }
    const iceServers = turn ? await turn.iceServersFor(peer.id) : undefined;
    return { ok: true, identity, iceServers };
  }
}

function refused(
  code: ProtocolError["code"],
  message: string,
  inReplyTo: string,
): Refused {
  return { ok: false, error: { code, message, inReplyTo } };
}
