/**
 * The wire protocol between the signaling server and its clients: one JSON
 * object per WebSocket text frame, discriminated by `type`.
 *
 * Compatible with the seed architecture note: a client that knows only the
 * seed messages (`broadcaster-ready`, `join-stream`, `viewer-joined`,
 * `webrtc-offer`, `webrtc-answer`, `webrtc-ice-candidate`) works unchanged and
 * may ignore every other server message. See docs/protocol.md.
 *
 * Browser-safe: no Deno or Node APIs in this folder.
 */
import type { ErrorCode } from "./error-codes.ts";

/** Bumped only for changes an older client could not ignore. */
export const PROTOCOL_VERSION = 1;

/** 1-128 characters of letters, digits and `._:-` (order ids, UUIDs). */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** What `RTCPeerConnection.createOffer/createAnswer` resolve to. */
export interface SessionDescription<T extends "offer" | "answer"> {
  type: T;
  sdp: string;
}

/** What `JSON.stringify(RTCIceCandidate)` produces (`toJSON()`). */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

// ---- client -> server ------------------------------------------------------

/** Announces this connection as the broadcaster of `streamId` (seed). */
export interface BroadcasterReady {
  type: "broadcaster-ready";
  streamId: string;
  /** A broadcaster token for this stream; required when the server has SIGNAL_SECRET. */
  token?: string;
  /**
   * This broadcaster's media is end-to-end encrypted (addition; SFrame in
   * encoded transforms, keys from the page, never the server's). The server
   * pairs it only with viewers that said `join-stream.e2ee`, and publishes
   * it to the SFU flagged so (a room that requires E2EE).
   */
  e2ee?: true;
}

/** Joins `streamId` as a viewer; waits if no broadcaster is there yet (seed). */
export interface JoinStream {
  type: "join-stream";
  streamId: string;
  /** A viewer token for this stream; required when the server has SIGNAL_SECRET. */
  token?: string;
  /**
   * The SDP session id (`o=` line) of the broadcaster's offer this viewer
   * still holds a connection for (addition). The broadcaster keeps that
   * connection, or restarts its ICE, instead of building a new one.
   */
  session?: string;
  /**
   * With `session`: the path of that connection may have changed (the
   * picture froze, or this client's own socket timed out): restart its ICE.
   */
  restart?: boolean;
  /**
   * With `session`: media arrives on that connection but no picture decodes
   * (its decoder waits for a key frame, whose request may have been lost
   * with an old path): send one (addition).
   */
  keyFrame?: boolean;
  /**
   * This viewer switches connections make before break (addition): given
   * an offer of another session, it keeps playing the connection it has
   * until the new one presents frames, then closes the old one and says
   * `viewer-playing`. Without it, the server takes a new offer to end the
   * old connection at once (as a seed viewer does). With it, the SFU's
   * offers say `a=setup:active` (the viewer takes them: every browser does),
   * so Janus starts the DTLS handshake (server/sfu/dtls-role.ts).
   */
  overlap?: boolean;
  /**
   * This viewer decrypts end-to-end encrypted media (addition: it holds a
   * key and has encoded transforms). Without it, a viewer of a stream whose
   * broadcaster said `broadcaster-ready.e2ee` gets `error`
   * `stream-encrypted` and is never paired: it stays in the stream, waiting,
   * and is paired once a broadcaster that does not encrypt is live.
   */
  e2ee?: true;
}

/** Leaves `streamId`, whichever role this connection has in it (addition). */
export interface LeaveStream {
  type: "leave-stream";
  streamId: string;
}

/**
 * Broadcaster -> one viewer (seed). `viewerId` is required from the
 * broadcaster; the server sets it on the way out.
 */
export interface WebRtcOffer {
  type: "webrtc-offer";
  streamId: string;
  viewerId?: string;
  offer: SessionDescription<"offer">;
  /**
   * Server -> viewer: the offer is the SFU's, not the broadcaster's
   * (addition): an `overlap` viewer reports its loss (`viewer-loss`) on
   * this connection. Never forwarded from a broadcaster.
   */
  sfu?: true;
}

/**
 * Viewer -> its broadcaster (seed). The `viewerId` a viewer sends is ignored:
 * the server attributes the answer to the sender's real id.
 */
export interface WebRtcAnswer {
  type: "webrtc-answer";
  streamId: string;
  viewerId?: string;
  answer: SessionDescription<"answer">;
}

/** Either direction (seed). Same `viewerId` rules as offer and answer. */
export interface WebRtcIceCandidate {
  type: "webrtc-ice-candidate";
  streamId: string;
  viewerId?: string;
  candidate: IceCandidate;
}

/**
 * Viewer -> server: it now plays the connection of SDP session `session`
 * and has closed any other (addition; sent by `overlap` viewers).
 */
export interface ViewerPlaying {
  type: "viewer-playing";
  streamId: string;
  session: string;
}

/** Most packets a `viewer-loss` may count, lost or received (a second of video is a few hundred). */
export const MAX_LOSS_PACKETS = 1_000_000;

/**
 * Viewer -> server, on a connection whose offer was the SFU's: in the last
 * second it lost `lost` video packets and received `received` (addition;
 * sent at most twice a second, only while it loses at least 4 packets
 * and 5%). The server may move it to a smaller simulcast layer.
 */
export interface ViewerLoss {
  type: "viewer-loss";
  streamId: string;
  lost: number;
  received: number;
}

/** Application-level liveness check; the server answers `pong` (addition). */
export interface Ping {
  type: "ping";
  nonce?: string | number;
}

/**
 * Broadcaster -> server, after `sfu-publish`: the offer of its one
 * connection to the SFU (addition). Answered by `sfu-answer`.
 */
export interface SfuOffer {
  type: "sfu-offer";
  streamId: string;
  offer: SessionDescription<"offer">;
}

/** Broadcaster -> server: a candidate of its connection to the SFU (addition). */
export interface SfuIceCandidate {
  type: "sfu-ice-candidate";
  streamId: string;
  candidate: IceCandidate;
}

/** Where a browser refused a description: the step that threw. */
export const NEGOTIATION_STAGES = [
  /** The viewer's `setRemoteDescription(offer)`. */
  "set-remote-offer",
  /** The viewer's `createAnswer()`. */
  "create-answer",
  /** The viewer's `setLocalDescription(answer)`. */
  "set-local-answer",
  /** The broadcaster's `setRemoteDescription(answer)`. */
  "set-remote-answer",
] as const;

export type NegotiationStage = typeof NEGOTIATION_STAGES[number];

/**
 * Longest `reason` a `negotiation-failed` may carry: a browser's error
 * text (Chromium's runs to about 250 characters); clients cut theirs.
 */
export const MAX_NEGOTIATION_REASON_LENGTH = 256;

/**
 * Client -> server: this client's browser refused a description of its
 * peer's (addition). The server logs and counts it; the client makes a new
 * connection by itself.
 */
export interface NegotiationFailed {
  type: "negotiation-failed";
  streamId: string;
  /** From the broadcaster: the viewer whose answer was refused. */
  viewerId?: string;
  stage: NegotiationStage;
  /** The browser's error, at most {@link MAX_NEGOTIATION_REASON_LENGTH} characters. */
  reason: string;
}

/** Every message a client may send. */
export type ClientMessage =
  | BroadcasterReady
  | JoinStream
  | LeaveStream
  | WebRtcOffer
  | WebRtcAnswer
  | WebRtcIceCandidate
  | SfuOffer
  | SfuIceCandidate
  | ViewerPlaying
  | ViewerLoss
  | NegotiationFailed
  | Ping;

export type ClientMessageType = ClientMessage["type"];

// ---- server -> client ------------------------------------------------------

/** An ICE server, as `RTCIceServer` (kept here so the module needs no DOM types). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** First message on every connection: the server-assigned client id. */
export interface Welcome {
  type: "welcome";
  clientId: string;
  protocolVersion: number;
  /** True when a resume claim kept this client's id from an earlier connection. */
  resumed?: boolean;
}

/** `broadcaster-ready` was accepted; `viewer-joined` follows per viewer. */
export interface BroadcasterAccepted {
  type: "broadcaster-accepted";
  streamId: string;
  viewerCount: number;
  /** A resume claim for the next connection (see docs/protocol.md, Resuming). */
  resume?: string;
  /** Time-limited TURN credentials and STUN servers, when the server has them. */
  iceServers?: IceServer[];
}

/** `join-stream` was accepted. `live` says whether a broadcaster is there. */
export interface JoinAccepted {
  type: "join-accepted";
  streamId: string;
  viewerId: string;
  live: boolean;
  /** A resume claim for the next connection (see docs/protocol.md, Resuming). */
  resume?: string;
  /** Time-limited TURN credentials and STUN servers, when the server has them. */
  iceServers?: IceServer[];
}

/**
 * To the broadcaster: a viewer wants the stream (seed). `viewerCount` (an
 * addition) is the stream's number of viewers with it.
 */
export interface ViewerJoined {
  type: "viewer-joined";
  streamId: string;
  viewerId: string;
  viewerCount: number;
  /** The viewer's `join-stream.session`: the connection it still holds. */
  session?: string;
  /** The viewer's `join-stream.restart`: that connection needs an ICE restart. */
  restart?: boolean;
  /** The viewer's `join-stream.keyFrame`: that connection needs a key frame. */
  keyFrame?: boolean;
  /**
   * The viewer watches through the SFU this broadcaster publishes to: count
   * it, do not connect to it (addition; sent only to a broadcaster that
   * answered `sfu-publish`).
   */
  sfu?: boolean;
}

/** To the broadcaster: a viewer left or dropped; close its connection. */
export interface ViewerLeft {
  type: "viewer-left";
  streamId: string;
  viewerId: string;
  /** The stream's number of viewers without it. */
  viewerCount: number;
}

/**
 * To the broadcaster on the SFU: this viewer now plays the SFU's video.
 * Close your connection to it without trying to recover it; it is still a
 * viewer (addition).
 */
export interface ViewerMoved {
  type: "viewer-moved";
  streamId: string;
  viewerId: string;
}

/** To every waiting viewer: a broadcaster is live; an offer follows. */
export interface BroadcasterJoined {
  type: "broadcaster-joined";
  streamId: string;
}

/** To every viewer: the broadcaster left or dropped; viewers stay and wait. */
export interface BroadcasterLeft {
  type: "broadcaster-left";
  streamId: string;
}

/** Routed offer, answer or candidate; `viewerId` is always the viewer's real id. */
export type RoutedOffer = WebRtcOffer & Required<Pick<WebRtcOffer, "viewerId">>;
export type RoutedAnswer = Required<WebRtcAnswer>;
export type RoutedIceCandidate = Required<WebRtcIceCandidate>;

/** Answer to `ping`, echoing its nonce. */
export interface Pong {
  type: "pong";
  nonce?: string | number;
  /** A fresh resume claim, while the client is in a stream. */
  resume?: string;
}

/** Something was refused. The connection stays open unless stated. */
export interface ErrorMessage {
  type: "error";
  code: ErrorCode;
  message: string;
  /** The `type` of the refused message, when it had one. */
  inReplyTo?: string;
  /**
   * The stream a refused announce or join named, and of `stream-encrypted`
   * (addition): a client that moved to another stream meanwhile ignores it.
   */
  streamId?: string;
}

/**
 * To the broadcaster: publish one connection to the SFU (send `sfu-offer`);
 * its viewers will get the video from the SFU (addition). A broadcaster that
 * does not know it keeps sending to each viewer itself.
 */
export interface SfuPublish {
  type: "sfu-publish";
  streamId: string;
}

/** To the broadcaster: the SFU's answer to its `sfu-offer` (addition). */
export interface SfuAnswer {
  type: "sfu-answer";
  streamId: string;
  answer: SessionDescription<"answer">;
}

/**
 * To the broadcaster on the SFU: send these simulcast rids of its SFU
 * connection, pause the others (`active: false`): no viewer gets them
 * (addition; a broadcaster that does not know it sends every layer).
 */
export interface SfuLayers {
  type: "sfu-layers";
  streamId: string;
  rids: string[];
}

/** Every message the server may send. */
export type ServerMessage =
  | Welcome
  | BroadcasterAccepted
  | JoinAccepted
  | ViewerJoined
  | ViewerLeft
  | ViewerMoved
  | BroadcasterJoined
  | BroadcasterLeft
  | RoutedOffer
  | RoutedAnswer
  | RoutedIceCandidate
  | SfuPublish
  | SfuAnswer
  | SfuLayers
  | Pong
  | ErrorMessage;

export type ServerMessageType = ServerMessage["type"];
