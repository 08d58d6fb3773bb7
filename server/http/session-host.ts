/** What the WHIP and WHEP endpoints and their sessions need of the server. */
import type { ClientMessage } from "../../protocol/messages.ts";
import type { SdpLimits } from "../../protocol/sdp-check.ts";
import type { Logger } from "../observe/logger.ts";
import type { Peer } from "../signaling/peer.ts";

export interface SessionHost {
  /** Whether Janus is linked (else 503: these clients need the SFU). */
  sfuUp(): boolean;
  /** A fresh client id. */
  newId(): string;
  connected(peer: Peer): void;
  handle(peer: Peer, message: ClientMessage): void | Promise<void>;
  /** The session ended (DELETE, refused, or closed by the server). */
  leave(peer: Peer, cause: string): void;
  /** Whether `origin` may use the endpoint (CORS, as for WebSockets). */
  originAllowed(origin: string | null): boolean;
  /** Whether another WHIP or WHEP session fits (MAX_HTTP_SESSIONS). */
  roomForSession(): boolean;
  /** MAX_HTTP_SESSIONS (also bounds what is remembered of ended ones). */
  maxSessions: number;
  /** ICE restarts with Janus (they concern only the client and Janus). */
  ice: IceRestarts;
  /** A session's ICE restarts at most one per this (ICE_RESTART_INTERVAL_MS). */
  iceRestartIntervalMs: number;
  /** Largest body (MAX_SDP_BYTES): read no further than this. */
  maxSdpBytes: number;
  /** Bounds on an offer or fragment (MAX_SDP_MEDIA_SECTIONS, _LINES, _LINE_BYTES). */
  sdpLimits: SdpLimits;
  /** A session whose media is not up this long after its 201 ends (MEDIA_CONNECT_TIMEOUT_MS). */
  mediaConnectTimeoutMs: number;
  logger: Logger;
}

/**
 * An ICE restart of a subscriber on a node that does not drive its stream
 * (with several nodes, its broadcaster's node does): the player is told to
 * start a new session, which reaches the stream wherever it is driven.
 */
export class IceRestartElsewhere extends Error {
  constructor(streamId: string) {
    super(`Stream ${streamId} is driven on another node`);
    this.name = "IceRestartElsewhere";
  }
}

/** What an ICE restart by PATCH asks of Janus (server/sfu/sfu-gateway.ts). */
export interface IceRestarts {
  /** The publisher's offer with new credentials: Janus's answer. */
  publisher(streamId: string, offer: string): Promise<string>;
  /** A subscriber's restart: Janus's new offer. */
  subscriber(streamId: string, viewerId: string): Promise<string>;
  /** The subscriber's answer to that offer. */
  answer(streamId: string, viewerId: string, answer: string): Promise<void>;
}

/**
 * Hands `message` to the host without waiting for it: a failure was logged
 * and refused (`internal-error`) by the host already, and must not be an
 * unhandled rejection (Deno exits on one).
 */
export function handOn(
  host: SessionHost,
  peer: Peer,
  message: ClientMessage,
): void {
  Promise.resolve(host.handle(peer, message)).catch(() => {});
}
