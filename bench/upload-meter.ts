/**
 * The broadcaster's video upload in the fault lab, from its page's meter
 * (lab-pages.ts: every connection's video bytes sent, every 500 ms): the
 * rate over a window, and a wait for it to hold steady before one.
 */
import type { FaultLab } from "../tests/e2e/support/fault-lab.ts";

/**
 * The window starts once the upload is steady: two successive seconds
 * within this share of each other. Right after the viewers play, the
 * bandwidth estimate may still be climbing (one peer-to-peer viewer's
 * upload read 337 kbit/s in one run, 480-490 steady), and after the
 * layers nobody gets are paused the encoder moves their bitrate to the
 * top layer over a second or two (300, 400, then 500+ kbit/s).
 */
const STEADY_SHARE = 0.1;
/** Measured as it is past this, and said so. */
const STEADY_MAX_MS = 20_000;

/** The broadcaster's video upload from `from` to `to` (kbit/s), if metered. */
export function uploadKbps(
  lab: FaultLab,
  from: number,
  to: number,
): number | undefined {
  const bytes = lab.events("b").filter((e) => e.kind === "bytes");
  const first = bytes.find((e) => e.t >= from);
  const last = bytes.findLast((e) => e.t <= to);
  if (!first || !last || last.t <= first.t) return undefined;
  return (last.value! - first.value!) * 8 / (last.t - first.t);
}

/** Waits until the upload is steady ({@link STEADY_SHARE}); true if it is. */
export async function steadyUpload(lab: FaultLab): Promise<boolean> {
  const deadline = Date.now() + STEADY_MAX_MS;
  while (Date.now() < deadline) {
    // The meter's last five readings (every 500 ms): two seconds.
    const [a, b, c] = lab.events("b").filter((e) => e.kind === "bytes")
      .slice(-5).filter((_, i) => i % 2 === 0);
    if (c) {
      const before = (b.value! - a.value!) / (b.t - a.t);
      const last = (c.value! - b.value!) / (c.t - b.t);
      if (Math.abs(last - before) <= STEADY_SHARE * before) return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}
