/**
 * `negotiation-failed`: a client's browser refused its peer's description.
 * The client recovers by itself (a new connection); the server only writes
 * it down, so an operator sees a broadcaster whose offers some browsers
 * cannot take (a `warn` line and a counter by stage). A client's report
 * concerns its own stream and role only.
 */
import type { NegotiationFailed } from "../../protocol/messages.ts";
import { TokenBucket } from "../security/token-bucket.ts";
import type { Peer } from "./peer.ts";
import type { RouterCore } from "./router-core.ts";

/**
 * Lines one connection may write in a burst, and per minute after it: a
 * viewer writes at most four per failure (three retries), a broadcaster four
 * per viewer. Past it reports are counted, not logged; the next line says
 * how many were left out (`suppressed`).
 */
export const NEGOTIATION_LOG_BURST = 10;
export const NEGOTIATION_LOG_PER_MINUTE = 10;

/**
 * A quoted SDP line (`a=candidate:…`, `c=IN IP4 …`), a bare candidate or an
 * IP address in a browser's error text: the log never carries SDP,
 * candidates or addresses, so the text stops there.
 */
const SDP_LINE =
  /(?:^|\s)[a-z]=\S|candidate:|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b/i;

export class NegotiationReports {
  #core: Pick<RouterCore, "clients" | "metrics" | "logger" | "refuse">;
  #now: () => number;
  #logs = new WeakMap<Peer, { bucket: TokenBucket; suppressed: number }>();

  /** `now` in milliseconds, for tests. */
  constructor(
    core: Pick<RouterCore, "clients" | "metrics" | "logger" | "refuse">,
    now: () => number = () => performance.now(),
  ) {
    this.#core = core;
    this.#now = now;
  }

  failed(peer: Peer, message: NegotiationFailed): void {
    const { streamId, stage, viewerId } = message;
    const place = this.#core.clients.place(peer.id);
    if (place?.streamId !== streamId) {
      return this.#core.refuse(peer, {
        code: "not-in-stream",
        message: `Not in stream ${streamId}`,
        inReplyTo: message.type,
      });
    }
    // The broadcaster applies answers; viewers apply offers and answer them.
    const role = stage === "set-remote-answer" ? "broadcaster" : "viewer";
    if (place.role !== role) {
      return this.#core.refuse(peer, {
        code: "wrong-role",
        message: `Only a ${role} reports a ${stage} failure`,
        inReplyTo: message.type,
      });
    }
    this.#core.metrics.countNegotiationFailure(stage);
    let log = this.#logs.get(peer);
    if (!log) {
      const bucket = new TokenBucket(
        NEGOTIATION_LOG_BURST,
        NEGOTIATION_LOG_PER_MINUTE / 60,
        this.#now(),
      );
      this.#logs.set(peer, log = { bucket, suppressed: 0 });
    }
    if (!log.bucket.take(this.#now())) {
      log.suppressed++;
      return;
    }
    const cut = message.reason.search(SDP_LINE);
    this.#core.logger.warn("client-negotiation-failed", {
      clientId: peer.id,
      role,
      streamId,
      ...(role === "broadcaster" && viewerId ? { viewerId } : {}),
      stage,
      reason: cut < 0
        ? message.reason
        : `${message.reason.slice(0, cut).trimEnd()} …`,
      ...(log.suppressed > 0 ? { suppressed: log.suppressed } : {}),
    });
    log.suppressed = 0;
  }
}
