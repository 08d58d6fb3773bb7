/**
 * Limits whose default follows the topology. Peer to peer, a broadcaster
 * uploads once per viewer, so 50 viewers is already more than most uplinks
 * carry; through the SFU one Janus instance carries SFU_VIEWERS_PER_INSTANCE
 * viewers of a stream, and a stream cascades over every instance listed. And a whole audience may sit behind one address (an
 * office's or a shop's NAT) and arrive at once, after a deploy say: the
 * per-address cap and bursts default to a full stream. A value set in the
 * environment always wins.
 */
/** The settings this rule reads and may fill in (config.ts's names). */
export interface TopologyLimits {
  janusUrl: string | undefined;
  sfuViewersPerInstance: number;
  maxViewersPerStream: number;
  maxConnectionsPerIp: number;
  connectBurstPerIp: number;
  joinBurstPerIp: number;
}

type Followed = Exclude<
  keyof TopologyLimits,
  "janusUrl" | "sfuViewersPerInstance"
>;

/**
 * Viewers a broadcaster connects to itself, at most: the default
 * MAX_VIEWERS_PER_STREAM peer to peer, and the most it is told of when an
 * SFU stream falls back (the rest wait for the SFU).
 */
export const P2P_MAX_VIEWERS = 50;

/** Per-address defaults never go below the peer-to-peer ones. */
const FLOOR = P2P_MAX_VIEWERS;

/** Fills in, in place, the settings of `config` not in `set`. */
export function followTopology(
  config: TopologyLimits,
  set: ReadonlySet<string>,
): void {
  const fill = (key: Followed, value: number) => {
    if (!set.has(key)) config[key] = value;
  };
  // Past one instance's share a stream cascades to the others.
  if (config.janusUrl) {
    fill(
      "maxViewersPerStream",
      config.sfuViewersPerInstance * janusUrls(config.janusUrl).length,
    );
  }
  fill("maxConnectionsPerIp", Math.max(FLOOR, config.maxViewersPerStream));
  fill("connectBurstPerIp", config.maxConnectionsPerIp);
  fill("joinBurstPerIp", config.maxConnectionsPerIp);
}

/** The Janus instances of JANUS_URL (comma-separated, blanks ignored). */
export function janusUrls(value: string): string[] {
  return value.split(",").map((url) => url.trim()).filter(Boolean);
}
