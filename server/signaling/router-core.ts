/**
 * What the router's parts share: the services, this node's clients, and the
 * steps every part takes (refuse, run a store step, hold a place, mint a
 * resume claim, send to a seat, evict one). Built once per router.
 */
import type { ServerMessage } from "../../protocol/messages.ts";
import type { ProtocolError } from "../../protocol/parse-client-message.ts";
import type { Admission } from "../security/admission.ts";
import type { AuditTrail } from "../observe/audit.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { Peer } from "./peer.ts";
import type { ResumeTokens } from "../security/resume-token.ts";
import {
  type Directory,
  type Eventually,
  type Role,
  type Seat,
} from "./directory.ts";
import type { Delivery, Envelope } from "./delivery.ts";
import type { SfuRelay } from "../sfu/sfu-relay.ts";
import { Departures } from "./departures.ts";
import { LocalClients, type LocalPlace } from "./local-clients.ts";
import { type Outbound, Postman } from "./postman.ts";
import { storeStep } from "./store-step.ts";
import { takeInbound, withoutVia } from "./sfu-inbound.ts";

export interface RouterOptions {
  directory: Directory;
  /** How seats on other nodes are reached (`LOCAL_DELIVERY` for one process). */
  delivery: Delivery;
  metrics: Metrics;
  logger: Logger;
  admission: Admission;
  audit: AuditTrail;
  maxViewersPerStream: number;
  resumeTokens: ResumeTokens;
  /** RECONNECT_GRACE_MS: how long a dropped member keeps its place. */
  reconnectGraceMs: number;
  /** With JANUS_URL: the SFU's side of routing (it applies SFU_AFTER_VIEWERS). */
  sfu?: SfuRelay;
  /** This node's clients, shared with the postman the SFU relay posts through. */
  clients?: LocalClients;
  postman?: Postman;
}

/** Close code for a broadcaster session taken over by a newer one of the same subject. */
export const REPLACED_CLOSE_CODE = 4001;
/** Close code for a stale socket whose client came back on a new one (resume). */
export const RESUMED_CLOSE_CODE = 4002;
/** Close code for a resume claim used for another stream or role. */
export const RESUME_MISMATCH_CLOSE_CODE = 4003;

export class RouterCore {
  readonly directory: Directory;
  readonly delivery: Delivery;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly admission: Admission;
  readonly audit: AuditTrail;
  readonly maxViewers: number;
  readonly resumeTokens: ResumeTokens;
  readonly sfu: SfuRelay | undefined;
  /** Each local client's connection, place and grace: one state each. */
  readonly clients: LocalClients;
  readonly postman: Postman;
  readonly departures: Departures;
  /** The claim each connection was last given (see resumeFor). */
  #claims = new WeakMap<
    Peer,
    { claim: string; streamId: string; role: Role; freshUntil: number }
  >();

  constructor(options: RouterOptions) {
    this.directory = options.directory;
    this.delivery = options.delivery;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.admission = options.admission;
    this.audit = options.audit;
    this.maxViewers = options.maxViewersPerStream;
    this.resumeTokens = options.resumeTokens;
    this.sfu = options.sfu;
    this.clients = options.clients ?? new LocalClients();
    this.postman = options.postman ??
      new Postman(this.clients, options.delivery);
    const sfu = options.sfu;
    this.departures = new Departures({
      directory: options.directory,
      audit: options.audit,
      logger: options.logger,
      postman: this.postman,
      departed: sfu && ((departure) => sfu.departed(departure)),
    });
  }

  get node(): string {
    return this.delivery.node;
  }

  /**
   * Runs one directory step and then `next` (see storeStep): synchronously
   * in memory; a failed step is logged and rejects.
   */
  guard<T>(
    step: () => Eventually<T>,
    next: (value: T) => void,
  ): Promise<void> | undefined {
    return storeStep(this.logger, step, next);
  }

  /**
   * A resume claim for `peer`'s place, when it holds one. Pongs (every 2 s
   * from a broadcaster) and repeated joins reuse it until half its lifetime
   * has passed: signing is the costly part.
   */
  resumeFor(peer: Peer): string | undefined {
    const place = this.clients.placeOf(peer);
    if (!place) return;
    const { streamId, role } = place;
    const now = Date.now();
    const held = this.#claims.get(peer);
    if (
      held?.streamId === streamId && held.role === role &&
      now < held.freshUntil
    ) return held.claim;
    const claim = this.resumeTokens.issue(
      { clientId: peer.id, streamId, role },
      now,
    );
    this.#claims.set(peer, {
      claim,
      streamId,
      role,
      freshUntil: now + this.resumeTokens.ttlSeconds * 500,
    });
    return claim;
  }

  /** Sends an `error` and counts it. */
  refuse(peer: Peer, error: ProtocolError): void {
    const { code, message, inReplyTo, streamId } = error;
    this.metrics.countError(code);
    this.logger.debug("refused", { clientId: peer.id, code, inReplyTo });
    peer.send({
      type: "error",
      code,
      message,
      ...(inReplyTo === undefined ? {} : { inReplyTo }),
      ...(streamId === undefined ? {} : { streamId }),
    });
  }

  /**
   * A store step for `peer`'s message failed: say so, keep the connection.
   * `streamId`: the stream of a refused announce or join.
   */
  storeFailed(peer: Peer, inReplyTo: string, streamId?: string): void {
    this.refuse(peer, {
      code: "cluster-unavailable",
      message:
        "The server cannot reach its cluster store right now; try again shortly",
      inReplyTo,
      streamId,
    });
  }

  /** Records a place the directory gave `peer`, unless it is gone meanwhile. */
  hold(peer: Peer, place: LocalPlace): void {
    if (peer.isOpen) {
      this.clients.apply(peer.id, { kind: "hold", peer, place });
    }
  }

  /** Closes a seat's socket wherever it is, without a departure. */
  evict(seat: Seat, how: Omit<Envelope & { kind: "evict" }, "kind" | "to">) {
    const envelope: Envelope = { kind: "evict", to: seat.id, ...how };
    if (seat.node === this.node) this.deliver(envelope, true);
    else this.delivery.toNode(seat.node, envelope);
  }

  /**
   * Sends `message` to a seat, here or on its node. `text` is its frame
   * when already encoded.
   */
  sendTo(seat: Seat, message: ServerMessage, text?: string): void {
    this.postman.sendTo(seat, message, text);
  }

  /** Sends what the SFU relay's step sends, in order. */
  post(out: readonly Outbound[]): void {
    this.postman.post(out);
  }

  /**
   * An envelope for one of this node's clients: from another node, unless
   * `local` (an eviction this node made).
   */
  deliver(envelope: Envelope, local = false): void {
    const peer = this.clients.peer(envelope.to);
    if (envelope.kind === "text") {
      const { text } = envelope;
      if (this.sfu && this.delivery.clustered) {
        const place = this.clients.place(envelope.to);
        // A viewer elsewhere, about its media: the SFU state is driven here.
        if (place?.role === "broadcaster") {
          const inbound = {
            sfu: this.sfu,
            postman: this.postman,
            logger: this.logger,
            broadcaster: peer,
            broadcasterId: envelope.to,
            streamId: place.streamId,
          };
          if (takeInbound(inbound, text)) return;
        } else if (!place && text.includes('"via":')) {
          // Its place not held yet: `via` is between nodes, never a client's.
          return peer?.sendRaw(withoutVia(text));
        }
      }
      peer?.sendRaw(text);
      return;
    }
    // The broadcaster went on on another node: so does its stream's SFU
    // state (that node takes it from the store; Janus is left alone here).
    const place = this.clients.place(envelope.to);
    if (!local && place?.role === "broadcaster") {
      this.sfu?.release(place.streamId);
    }
    if (envelope.text !== undefined) peer?.sendRaw(envelope.text);
    this.clients.apply(envelope.to, { kind: "forget" });
    peer?.close(envelope.code, envelope.reason, envelope.why);
  }
}
