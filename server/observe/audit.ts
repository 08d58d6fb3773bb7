/**
 * The audit trail: one JSON log line per admission, refusal, join and leave,
 * with the stream, role, subject (from the token), client id, time and
 * reason; the same events go to the webhook when one is configured.
 */
import type { Logger } from "./logger.ts";
import { RefusalLog } from "./refusal-log.ts";

export type AuditKind = "admitted" | "refused" | "joined" | "left";

export interface AuditEvent {
  kind: AuditKind;
  /** ISO 8601. */
  time: string;
  clientId?: string;
  streamId?: string;
  role?: "broadcaster" | "viewer";
  /** `sub` of the token; absent in open development mode. */
  subject?: string;
  /** `name` of the token, for "watched by …". */
  name?: string;
  /** Why: an error code for refusals, the cause for leaves. */
  reason?: string;
  remoteAddress?: string;
}

export type AuditSink = (event: AuditEvent) => void;

export class AuditTrail {
  #logger: Logger;
  #sinks: AuditSink[];
  #refusals: RefusalLog;

  constructor(logger: Logger, sinks: AuditSink[] = []) {
    this.#logger = logger;
    this.#sinks = sinks;
    this.#refusals = new RefusalLog(logger);
  }

  record(event: Omit<AuditEvent, "time">): void {
    // A warning an operator sees at any level, once per address and minute.
    if (event.kind === "refused" && event.remoteAddress) {
      this.#refusals.refused(event.remoteAddress, event.reason ?? "refused");
    }
    // Joins and leaves are the hot path: no work when nobody listens.
    const logs = this.#logger.level === "info" ||
      this.#logger.level === "debug";
    if (!logs && this.#sinks.length === 0) return;
    // The log line carries the logger's own timestamp (and leaves out
    // undefined fields itself).
    if (logs) this.#logger.info("audit", event);
    if (this.#sinks.length === 0) return;
    const fields = Object.fromEntries(
      Object.entries(event).filter(([, value]) => value !== undefined),
    ) as Omit<AuditEvent, "time">;
    const full = { time: new Date().toISOString(), ...fields } as AuditEvent;
    for (const sink of this.#sinks) sink(full);
  }
}
