/**
 * What the SFU relay is given and hands back: its options, the part of the
 * gateway it uses, and the messages its steps send.
 */
import type { Outbound } from "../signaling/postman.ts";
import type { Logger } from "../observe/logger.ts";
import type { Metrics } from "../observe/metrics.ts";
import type { LayerLimits } from "./layer-policy.ts";
import type { SfuPool } from "./sfu-pool.ts";
import type { SfuStore } from "./handover.ts";

/** What the relay uses of the gateway (a fake stands in for it in unit tests). */
export type Gateway = Pick<
  SfuPool,
  | "events"
  | "up"
  | "publish"
  | "restartPublisher"
  | "subscribe"
  | "answer"
  | "trickle"
  | "isSubscribed"
  | "unsubscribe"
  | "end"
  | "setLayer"
  | "requestKeyframe"
  | "describe"
  | "adopt"
  | "release"
  | "discard"
>;

export interface SfuRelayOptions {
  gateway: Gateway;
  logger: Logger;
  metrics: Metrics;
  /** Sends what a step started by Janus or a timer sends (the router's delivery). */
  post(out: readonly Outbound[]): void;
  /** A stream with more viewers than this goes to the SFU (0: every stream). */
  afterViewers: number;
  /**
   * Peer to peer after all (Janus down, a broadcaster that does not
   * publish), the most viewers its broadcaster connects to; the rest wait.
   */
  directMax: number;
  /** How long a broadcaster has to answer `sfu-publish` with `sfu-offer`. */
  offerTimeoutMs: number;
  /**
   * How long an `overlap` viewer's SFU connection has to play; after that
   * it stays peer to peer (its video never stopped).
   */
  switchTimeoutMs: number;
  /**
   * Where streams' SFU state is kept for other nodes (with REDIS_URL): a
   * node that takes a stream's broadcaster over takes its Janus state too.
   */
  store?: SfuStore;
  /** The simulcast layer limits (defaults in layer-policy.ts). */
  layers?: LayerLimits;
}

export type { Outbound };
