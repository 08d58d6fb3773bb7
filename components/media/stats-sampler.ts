import type { ReactiveController, ReactiveControllerHost } from "lit";
import { formatStats, readStats } from "./connection-stats.ts";

/** How often the statistics box is refreshed. */
const STATS_INTERVAL_MS = 1_000;

/** The viewer: sampled while its `stats` attribute is set. */
export interface StatsHost extends ReactiveControllerHost {
  readonly showStats: boolean;
}

export interface StatsSamplerOptions {
  /** The connection to read, if there is one. */
  connection(): RTCPeerConnection | undefined;
  /** The `stats` box's text. */
  onStats(text: string): void;
}

/**
 * Reads the viewer's connection statistics once a second while they are
 * wanted and the element is on the page; a bitrate needs the sample before.
 * A chunk with its reader (connection-stats.ts), loaded when a `stats`
 * box is first shown.
 */
export class StatsSampler implements ReactiveController {
  #host: StatsHost;
  #options: StatsSamplerOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #onPage = false;

  constructor(host: StatsHost, options: StatsSamplerOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.#onPage = true;
    this.#sync();
  }

  hostDisconnected(): void {
    this.#onPage = false;
    this.#sync();
  }

  /** After each render: `stats` may have been set or removed. */
  hostUpdated(): void {
    this.#sync();
  }

  #sync(): void {
    const wanted = this.#onPage && this.#host.showStats;
    if (wanted === (this.#timer !== undefined)) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!wanted) return;
    let previous: { bytes: number; at: number } | undefined;
    this.#timer = setInterval(async () => {
      const pc = this.#options.connection();
      if (!pc) return;
      const { stats, sample } = await readStats(pc, previous);
      previous = sample;
      this.#options.onStats(formatStats(stats));
    }, STATS_INTERVAL_MS);
  }
}
