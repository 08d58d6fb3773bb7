/**
 * Counters kept while the server runs, rendered as Prometheus text
 * exposition format (version 0.0.4) for `GET /metrics`.
 */
import type { ErrorCode } from "../protocol/error-codes.ts";

/** Point-in-time values read when /metrics is scraped. */
export interface Gauges {
  connections: number;
  streams: number;
  liveStreams: number;
  viewers: number;
}

/** Why the server itself closed a connection. */
export type DropReason =
  | "message-too-large"
  | "rate-limited"
  | "slow-consumer"
  | "replaced"
  | "resumed"
  | "resume-mismatch"
  | "shutdown";

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
  readonly errors = new Map<ErrorCode, number>();
  readonly drops = new Map<DropReason, number>();

  countError(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  countDrop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  render(gauges: Gauges): string {
    const lines: string[] = [];
    const metric = (
      name: string,
      type: "gauge" | "counter",
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
}

function labelled(
  label: string,
  counts: Map<string, number>,
): [string, number][] {
  return [...counts].map((
    [key, value],
  ) => [`{${label}=${JSON.stringify(key)}}`, value]);
}
