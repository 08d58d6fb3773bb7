/**
 * A person-readable summary of a receiving RTCPeerConnection's statistics.
 * Loaded lazily (the `stats` box, `getStats()`): most pages never ask.
 */
export interface LiveStats {
  width?: number;
  height?: number;
  framesPerSecond?: number;
  /** Received video bits per second since the previous sample. */
  bitrate?: number;
  /** Seconds. */
  roundTripTime?: number;
  /** `host`, `srflx`, `prflx` or `relay`: how the peers reached each other. */
  candidateType?: string;
}

interface Sample {
  bytes: number;
  at: number;
}

/** Reads `pc.getStats()`; pass the previous sample to get a bitrate. */
export async function readStats(
  pc: RTCPeerConnection,
  previous?: Sample,
): Promise<{ stats: LiveStats; sample: Sample }> {
  const report = await pc.getStats();
  const stats: LiveStats = {};
  let bytes = 0;
  let pairId: string | undefined;
  const byId = new Map<string, Record<string, unknown>>();
  report.forEach((entry: Record<string, unknown>) => {
    byId.set(entry.id as string, entry);
    if (entry.type === "inbound-rtp" && entry.kind === "video") {
      stats.width = entry.frameWidth as number | undefined;
      stats.height = entry.frameHeight as number | undefined;
      stats.framesPerSecond = entry.framesPerSecond as number | undefined;
      bytes = (entry.bytesReceived as number | undefined) ?? 0;
    }
    if (entry.type === "transport" && entry.selectedCandidatePairId) {
      pairId = entry.selectedCandidatePairId as string;
    }
  });
  // Firefox has no transport stats: take the nominated, succeeded pair.
  if (!pairId) {
    report.forEach((entry: Record<string, unknown>) => {
      if (
        entry.type === "candidate-pair" && entry.nominated &&
        entry.state === "succeeded"
      ) pairId = entry.id as string;
    });
  }
  const pair = pairId ? byId.get(pairId) : undefined;
  if (pair) {
    stats.roundTripTime = pair.currentRoundTripTime as number | undefined;
    const local = byId.get(pair.localCandidateId as string);
    stats.candidateType = local?.candidateType as string | undefined;
  }
  const sample = { bytes, at: performance.now() };
  if (previous && sample.at > previous.at) {
    stats.bitrate = Math.round(
      ((bytes - previous.bytes) * 8 * 1000) / (sample.at - previous.at),
    );
  }
  return { stats, sample };
}

/** The `stats` box's lines. */
export function formatStats(stats: LiveStats): string {
  const lines = [
    stats.width ? `${stats.width}x${stats.height}` : undefined,
    stats.framesPerSecond !== undefined
      ? `${Math.round(stats.framesPerSecond)} fps`
      : undefined,
    stats.bitrate !== undefined
      ? `${Math.round(stats.bitrate / 1000)} kbit/s`
      : undefined,
    stats.roundTripTime !== undefined
      ? `RTT ${Math.round(stats.roundTripTime * 1000)} ms`
      : undefined,
    stats.candidateType,
  ];
  return lines.filter(Boolean).join("\n");
}
