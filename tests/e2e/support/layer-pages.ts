/**
 * The lab's view of simulcast layers: a `<live-broadcaster>` page at a
 * given capture size that reports, every 500 ms, each rid of its video
 * sender as its browser sends it (outbound-rtp: frame width, bytes, frames
 * per second, keyframes; and the encoding's `active`), and Janus's view of
 * the same layers from its admin API.
 */
import type { FaultLab } from "./fault-lab.ts";
import { broadcasterPage, type LabPage } from "./lab-pages.ts";

/** One rid at one moment, as the broadcaster's browser reports it. */
export interface RidSample {
  t: number;
  rid: string;
  /** outbound-rtp `frameWidth` (0 before any frame). */
  width: number;
  /** outbound-rtp `bytesSent` (padding the browser sends on it included). */
  bytes: number;
  fps: number;
  keyframes: number;
  /** The sender's encoding for the rid is active. */
  active: boolean;
}

const RID_REPORTER = `<script type="module">
  setInterval(async () => {
    for (const pc of labPcs) {
      if (pc.signalingState === "closed") continue;
      const sender = pc.getSenders().find((s) => s.track?.kind === "video");
      const active = new Map((sender?.getParameters().encodings ?? [])
        .map((e) => [e.rid, e.active !== false]));
      (await pc.getStats()).forEach((s) => {
        if (s.type !== "outbound-rtp" || s.kind !== "video") return;
        labPush({
          kind: "rid",
          rid: s.rid ?? "",
          width: s.frameWidth ?? 0,
          bytes: s.bytesSent ?? 0,
          fps: s.framesPerSecond ?? 0,
          keyframes: s.keyFramesEncoded ?? 0,
          active: active.get(s.rid) ?? true,
        });
      });
    }
  }, 500);
</script>`;

/** `<live-broadcaster>` capturing `width`x`height`, reporting its rids. */
export function layerBroadcasterPage(width: number, height: number) {
  return (page: LabPage): string =>
    broadcasterPage(page).replace(
      'video-width="640" video-height="480"',
      `video-width="${width}" video-height="${height}"`,
    ) + RID_REPORTER;
}

/** Every rid sample the broadcaster (`b`) reported. */
export function ridSamples(lab: FaultLab, name = "b"): RidSample[] {
  return lab.events(name).filter((e) =>
    e.kind === ("rid" as string)
  ) as unknown as RidSample[];
}

/** Bytes per second `rid` sent between `from` and `to` (by its samples). */
export function ridRate(
  lab: FaultLab,
  rid: string,
  from: number,
  to: number,
): number {
  const samples = ridSamples(lab).filter((s) =>
    s.rid === rid && s.t >= from && s.t <= to
  );
  if (samples.length < 2) return NaN;
  const first = samples[0];
  const last = samples[samples.length - 1];
  return (last.bytes - first.bytes) / ((last.t - first.t) / 1000);
}

/** The latest sample of each rid: its width, fps, `active`. */
export function latestRids(lab: FaultLab): Map<string, RidSample> {
  const latest = new Map<string, RidSample>();
  for (const sample of ridSamples(lab)) latest.set(sample.rid, sample);
  return latest;
}

/**
 * What Janus receives of the stream's video now, per substream (0 the
 * smallest): bytes in its last second, from the publisher handle's
 * admin-API statistics.
 */
export async function janusLayerBytes(lab: FaultLab): Promise<number[]> {
  const janus = lab.janus!;
  for (const session of await janus.sessions()) {
    for (const handle of await janus.handles(session)) {
      const reply = await janus.admin({
        janus: "handle_info",
        session_id: session,
        handle_id: handle,
      });
      // deno-lint-ignore no-explicit-any
      const info = reply.info as any;
      if (info?.plugin_specific?.type !== "publisher") continue;
      // deno-lint-ignore no-explicit-any
      const video = Object.values(info.webrtc?.media ?? {}).find((m: any) =>
        m.type === "video"
        // deno-lint-ignore no-explicit-any
      ) as any;
      const stats = video?.stats?.in ?? {};
      return [
        stats.bytes_lastsec ?? 0,
        stats["video-simulcast-1"]?.bytes_lastsec ?? 0,
        stats["video-simulcast-2"]?.bytes_lastsec ?? 0,
      ];
    }
  }
  return [];
}

/** The rids the server last asked the broadcaster for (`sfu-layers-wanted`). */
export function wanted(lab: FaultLab): string | undefined {
  const line = lab.serverLog.findLast((l) => l.includes('"sfu-layers-wanted"'));
  return line && JSON.parse(line).rids.join(",");
}

/**
 * Until the server asked the broadcaster for the top layer alone and its
 * browser reports the other `rids` (all but the first) inactive.
 */
export async function untilTopOnly(
  lab: FaultLab,
  rids: string[],
): Promise<void> {
  await lab.until(
    () => `the server to ask for h alone (${wanted(lab)})`,
    () => wanted(lab) === "h" || undefined,
    30_000,
  );
  await lab.until(
    () => `the others inactive: ${JSON.stringify([...latestRids(lab)])}`,
    () =>
      rids.slice(1).every((rid) =>
        latestRids(lab).get(rid)?.active === false
      ) || undefined,
  );
}
