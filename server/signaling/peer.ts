import type { ServerMessage } from "../../protocol/messages.ts";
import type { DropReason } from "../observe/metrics.ts";
import type { ResumeClaims } from "../security/resume-token.ts";

/** A connected client as the routing logic sees it. */
export interface Peer {
  readonly id: string;
  /** The client's address (X-Forwarded-For's first hop with TRUST_PROXY). */
  readonly remoteAddress: string;
  /** False once closed: an admission that finishes later must not add it. */
  readonly isOpen: boolean;
  /**
   * The resume claim this connection came with, until its first announce or
   * join (which must be for the claim's stream and role).
   */
  resumed: ResumeClaims | undefined;
  /**
   * It publishes through the SFU only (a WHIP sender): its stream goes to
   * the SFU whatever SFU_AFTER_VIEWERS says.
   */
  readonly sfuOnly?: boolean;
  send(message: ServerMessage): void;
  /**
   * Sends `text`, which is a server message's exact JSON already (a frame
   * forwarded as received, or encoded once for many), with the message
   * itself when this node has it (a peer without a socket takes that).
   */
  sendRaw(text: string, message?: ServerMessage): void;
  /** Closes from the server side, counting why. */
  close(code: number, reason: string, why: DropReason): void;
}
