/**
 * Counters kept while the server runs, rendered as Prometheus text
 * exposition format (version 0.0.4) for `GET /metrics`.
 */
import type { ErrorCode } from "../../protocol/error-codes.ts";

/** Point-in-time values read when /metrics is scraped. */
export interface Gauges {
  connections: number;
  streams: number;
  liveStreams: number;
  viewers: number;
  /** With REDIS_URL: whether this node can use Redis (1) or not (0). */
  storeUp?: number;
  /** With REDIS_URL: this node's id (several processes answer on one port). */
  node?: string;
  /** With JANUS_URL: whether Janus is linked (1) or not (0). */
  sfuUp?: number;
}

/**
 * Why the server itself closed a connection. Every reason is rendered from
 * the start (0 until it happens), so a scrape or a `rate()` never meets a
 * series that appears later.
 */
export const DROP_REASONS = [
  "message-too-large",
  "rate-limited",
  "slow-consumer",
  "replaced",
  "resumed",
  "resume-mismatch",
  "shutdown",
  /** The upgrade never opened within HANDSHAKE_TIMEOUT_MS (a client that reset it). */
  "handshake-timeout",
  /** Cluster mode: this node lost its place in the cluster (Redis). */
  "cluster-lost",
] as const;
export type DropReason = typeof DROP_REASONS[number];

/** Why a frame between nodes was dropped (cluster mode). */
export const LINK_DROP_REASONS = ["queue-full", "late", "moved"] as const;

export class Metrics {
  connectionsAccepted = 0;
  connectionsRefused = 0;
  messagesReceived = 0;
  /** Offers, answers and candidates delivered to their peer. */
  messagesRouted = 0;
  messagesSent = 0;
  /** Connections that took their client's place back with a resume claim. */
  sessionsResumed = 0;
  /** Members whose socket dropped and who were not back within the grace period. */
  graceExpired = 0;
  /** Cluster mode: envelopes published to other nodes, received, lost on publish. */
  clusterSent = 0;
  clusterReceived = 0;
  clusterLost = 0;
  /** Cluster mode: frames to other nodes over direct links, through Redis pub/sub. */
  clusterLinkFrames = 0;
  clusterPublished = 0;
  /** Cluster mode: links this node opened, links of its that closed or failed, links it accepted. */
  clusterLinksOpened = 0;
  clusterLinkFailures = 0;
  clusterLinksAccepted = 0;
  /** Cluster mode: frames whose target was looked up in Redis; frames a cached route missed. */
  clusterRouteLookups = 0;
  clusterRouteMisses = 0;
  /** Cluster mode: frames between nodes dropped, by why. */
  readonly clusterLinkDrops = new Map<string, number>(
    LINK_DROP_REASONS.map((reason) => [reason, 0]),
  );
  /** Cluster mode: Redis reconnection attempts. */
  redisReconnects = 0;
  /** Cluster mode: dead nodes this node reaped. */
  clusterNodesReaped = 0;
  /** Cluster mode: times this node found its registration gone. */
  clusterRegistrationsLost = 0;
  #redisRoundTripSum = 0;
  #redisRoundTripCount = 0;
  /** Viewers switched from the broadcaster's connection to the SFU's. */
  sfuSwitches = 0;
  /** Simulcast layer changes asked of the SFU for a viewer's link. */
  sfuLayerChanges = 0;
  /** `sfu-layers` sent: broadcasters told which layers to send (dynacast). */
  sfuLayerRequests = 0;
  /** `viewer-loss` reports of SFU viewers. */
  sfuViewerLossReports = 0;
  /** Layers Janus never switched a viewer to (taken not to arrive). */
  sfuLayersMissing = 0;
  /** Streams published again: their Janus instance lost, or their broadcaster's connection to it. */
  sfuRepublishes = 0;
  /** ICE restarts of a broadcaster's connection to Janus (its address changed). */
  sfuPublisherRestarts = 0;
  /** Streams sent back to peer to peer from the SFU, by why. */
  readonly sfuFallbacks = new Map<string, number>();
  /** `negotiation-failed` reports: a client's browser refused a description, by stage. */
  readonly negotiationFailures = new Map<string, number>();
  readonly errors = new Map<ErrorCode, number>();
  readonly drops = new Map<DropReason, number>(
    DROP_REASONS.map((reason) => [reason, 0]),
  );

  countLinkDrop(reason: typeof LINK_DROP_REASONS[number]): void {
    this.clusterLinkDrops.set(
      reason,
      (this.clusterLinkDrops.get(reason) ?? 0) + 1,
    );
  }

  countError(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** One heartbeat's round trip to Redis, in milliseconds. */
  observeRedisRoundTrip(ms: number): void {
    this.#redisRoundTripSum += ms / 1000;
    this.#redisRoundTripCount++;
  }

  countNegotiationFailure(stage: string): void {
    this.negotiationFailures.set(
      stage,
      (this.negotiationFailures.get(stage) ?? 0) + 1,
    );
  }

  countSfuFallback(why: string): void {
    this.sfuFallbacks.set(why, (this.sfuFallbacks.get(why) ?? 0) + 1);
  }

  countDrop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  render(gauges: Gauges): string {
    const lines: string[] = [];
    const metric: Emit = (
      name: string,
      type: "gauge" | "counter" | "summary",
      help: string,
      samples: [labels: string, value: number][],
    ) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) {
        lines.push(`${name}${labels} ${value}`);
      }
    };
    metric("live_connections", "gauge", "Open WebSocket connections", [[
      "",
      gauges.connections,
    ]]);
    metric("live_streams", "gauge", "Streams with anyone in them", [[
      "",
      gauges.streams,
    ]]);
    metric(
      "live_streams_live",
      "gauge",
      "Streams whose broadcaster is connected",
      [["", gauges.liveStreams]],
    );
    metric("live_viewers", "gauge", "Viewers in all streams", [[
      "",
      gauges.viewers,
    ]]);
    metric(
      "live_connections_accepted_total",
      "counter",
      "WebSocket upgrades accepted",
      [["", this.connectionsAccepted]],
    );
    metric(
      "live_connections_refused_total",
      "counter",
      "WebSocket upgrades refused (connection cap or shutdown)",
      [["", this.connectionsRefused]],
    );
    metric(
      "live_messages_received_total",
      "counter",
      "Frames received from clients",
      [["", this.messagesReceived]],
    );
    metric(
      "live_messages_routed_total",
      "counter",
      "Offers, answers and ICE candidates delivered to their peer",
      [["", this.messagesRouted]],
    );
    metric(
      "live_messages_sent_total",
      "counter",
      "Frames sent to clients",
      [["", this.messagesSent]],
    );
    metric(
      "live_sessions_resumed_total",
      "counter",
      "Connections that took their client's place back with a resume claim",
      [["", this.sessionsResumed]],
    );
    metric(
      "live_grace_expired_total",
      "counter",
      "Members whose socket dropped and who were not back within RECONNECT_GRACE_MS",
      [["", this.graceExpired]],
    );
    metric(
      "live_errors_total",
      "counter",
      "Error messages sent, by code",
      labelled("code", this.errors),
    );
    metric(
      "live_connections_dropped_total",
      "counter",
      "Connections the server closed, by reason",
      labelled("reason", this.drops),
    );
    metric(
      "live_client_negotiation_failures_total",
      "counter",
      "Descriptions a client's browser refused (negotiation-failed), by stage",
      labelled("stage", this.negotiationFailures),
    );
    if (gauges.storeUp !== undefined) this.#renderCluster(metric, gauges);
    if (gauges.sfuUp !== undefined) {
      metric("live_sfu_up", "gauge", "Whether Janus (JANUS_URL) is linked", [[
        "",
        gauges.sfuUp,
      ]]);
    }
    if (gauges.sfuUp !== undefined) {
      metric(
        "live_sfu_switches_total",
        "counter",
        "Viewers moved from the broadcaster's own connection to the SFU's",
        [["", this.sfuSwitches]],
      );
      metric(
        "live_sfu_layer_changes_total",
        "counter",
        "Simulcast layer changes for a viewer's link (Janus slowlink, then quiet)",
        [["", this.sfuLayerChanges]],
      );
      metric(
        "live_sfu_viewer_loss_reports_total",
        "counter",
        "Loss reports of viewers watching through the SFU (viewer-loss)",
        [["", this.sfuViewerLossReports]],
      );
      metric(
        "live_sfu_layer_requests_total",
        "counter",
        "Broadcasters told which simulcast layers to send (sfu-layers)",
        [["", this.sfuLayerRequests]],
      );
      metric(
        "live_sfu_layers_missing_total",
        "counter",
        "Simulcast layers Janus never switched a viewer to (taken not to arrive)",
        [["", this.sfuLayersMissing]],
      );
      metric(
        "live_sfu_republished_total",
        "counter",
        "Streams published again: their Janus instance lost, or their broadcaster's connection to it",
        [["", this.sfuRepublishes]],
      );
      metric(
        "live_sfu_publisher_restarts_total",
        "counter",
        "ICE restarts of a broadcaster's connection to Janus (its address changed, say)",
        [["", this.sfuPublisherRestarts]],
      );
    }
    if (this.sfuFallbacks.size > 0) {
      metric(
        "live_sfu_fallbacks_total",
        "counter",
        "Streams that stayed on or went back to peer to peer instead of the SFU, by why",
        labelled("why", this.sfuFallbacks),
      );
    }
    const memory = Deno.memoryUsage();
    metric(
      "process_resident_memory_bytes",
      "gauge",
      "Resident set size of the server process",
      [["", memory.rss]],
    );
    metric("deno_heap_used_bytes", "gauge", "V8 heap in use", [[
      "",
      memory.heapUsed,
    ]]);
    return lines.join("\n") + "\n";
  }

  #renderCluster(metric: Emit, gauges: Gauges): void {
    metric("live_redis_up", "gauge", "Whether this node can use Redis", [[
      "",
      gauges.storeUp ?? 0,
    ]]);
    if (gauges.node) {
      metric("live_cluster_node", "gauge", "This node's id, as a label", [[
        `{node=${JSON.stringify(gauges.node)}}`,
        1,
      ]]);
    }
    metric(
      "live_redis_roundtrip_seconds",
      "summary",
      "Heartbeat round trips to Redis",
      [
        ["_sum", this.#redisRoundTripSum],
        ["_count", this.#redisRoundTripCount],
      ],
    );
    metric(
      "live_redis_reconnects_total",
      "counter",
      "Reconnection attempts to Redis",
      [["", this.redisReconnects]],
    );
    metric(
      "live_cluster_messages_sent_total",
      "counter",
      "Frames sent for clients on other nodes",
      [["", this.clusterSent]],
    );
    metric(
      "live_cluster_messages_received_total",
      "counter",
      "Frames received from other nodes for this node's clients",
      [["", this.clusterReceived]],
    );
    metric(
      "live_cluster_messages_lost_total",
      "counter",
      "Frames for other nodes that could not be published (Redis unreachable)",
      [["", this.clusterLost]],
    );
    metric(
      "live_cluster_frames_total",
      "counter",
      "Frames sent to other nodes, by way (a direct link, or Redis pub/sub)",
      [
        ['{via="link"}', this.clusterLinkFrames],
        ['{via="pubsub"}', this.clusterPublished],
      ],
    );
    metric(
      "live_cluster_links_total",
      "counter",
      "Links to other nodes opened, closed or failed, and accepted from them",
      [
        ['{event="opened"}', this.clusterLinksOpened],
        ['{event="closed"}', this.clusterLinkFailures],
        ['{event="accepted"}', this.clusterLinksAccepted],
      ],
    );
    metric(
      "live_cluster_route_lookups_total",
      "counter",
      "Frames whose target's node was looked up in Redis (no route cached, or it missed)",
      [["", this.clusterRouteLookups]],
    );
    metric(
      "live_cluster_route_misses_total",
      "counter",
      "Frames sent along a cached route that the other node sent back",
      [["", this.clusterRouteMisses]],
    );
    metric(
      "live_cluster_frames_dropped_total",
      "counter",
      "Frames between nodes dropped, by why",
      labelled("reason", this.clusterLinkDrops),
    );
    metric(
      "live_cluster_nodes_reaped_total",
      "counter",
      "Dead nodes whose members this node freed",
      [["", this.clusterNodesReaped]],
    );
    metric(
      "live_cluster_registrations_lost_total",
      "counter",
      "Times this node found itself forgotten by the cluster and closed its sockets",
      [["", this.clusterRegistrationsLost]],
    );
  }
}

type Emit = (
  name: string,
  type: "gauge" | "counter" | "summary",
  help: string,
  samples: [labels: string, value: number][],
) => void;

function labelled(
  label: string,
  counts: Map<string, number>,
): [string, number][] {
  return [...counts].map((
    [key, value],
  ) => [`{${label}=${JSON.stringify(key)}}`, value]);
}
