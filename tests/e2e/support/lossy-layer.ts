/**
 * A viewer on a lossy link gets the smaller layer (issue 24): one Chromium
 * `<live-broadcaster>` at 640x480 (two layers) and two Chromium
 * `<live-viewer>`s through a real Janus; the first viewer's namespace loses
 * a fifth of its packets, the viewer (`viewer-loss`) or Janus (`slowlink`)
 * reports its slow link, the server asks Janus for the smaller layer.
 * Shared by the lab tests (what happens) and bench/sfu-lossy-layer.ts (how
 * long it takes).
 */
import type { FaultLab, LabOptions } from "./fault-lab.ts";
import { viewerPage } from "./lab-pages.ts";
import { layerBroadcasterPage } from "./layer-pages.ts";

/** The lab: every stream through the SFU, unwatched layers paused after 2 s. */
export const LOSSY_LAB: LabOptions = {
  browsers: ["chromium", "chromium", "chromium"],
  janus: true,
  env: {
    SFU_AFTER_VIEWERS: "0",
    SFU_LAYER_PAUSE_AFTER_MS: "2000",
    LOG_LEVEL: "debug",
  },
  pages: [layerBroadcasterPage(640, 480), viewerPage, viewerPage],
};

export interface LossySwitch {
  /** The lossy viewer's id on the server. */
  viewerId: string;
  /**
   * Loss begun to the first report that moves it: Janus's slowlink, or the
   * viewer's own `viewer-loss` of at least SFU_LAYER_LOSS_PERCENT, ms.
   */
  reportMs: number;
  /** Whose report that was. */
  by: "janus" | "viewer";
  /** That report to Janus confirming the smaller layer, ms. */
  switchMs: number;
}

/**
 * A server log line that reports a viewer's slow link, and whose: a
 * viewer's report only when the server took it as one (`slow`: at its
 * SFU_LAYER_LOSS_PERCENT or more).
 */
function slowReport(line: string): "janus" | "viewer" | undefined {
  if (
    line.includes('"sfu-slowlink"') && line.includes('"media":"video"') &&
    line.includes('"uplink":true')
  ) return "janus";
  if (!line.includes('"sfu-viewer-loss"')) return undefined;
  return JSON.parse(line).slow === true ? "viewer" : undefined;
}

/** The latest width `name`'s video showed. */
export const shownWidth = (lab: FaultLab, name: string): number =>
  lab.events(name).findLast((e) => e.kind === "width")?.value ?? 0;

/**
 * Once `v1` and `v2` play (and `v1` shows the full picture): `v1`'s host
 * loses 20% of its packets (UDP: the media, not the signaling); resolves
 * when Janus confirmed `v1`'s smaller layer and its video shows it (320
 * wide). The loss stays on: `lab.network.noLoss` ends it.
 */
export async function lossToSmallerLayer(lab: FaultLab): Promise<LossySwitch> {
  // Janus may begin it on m: it moves up on h's next keyframe.
  await lab.until(
    () => `v1 on the full picture (${shownWidth(lab, "v1")})`,
    () => shownWidth(lab, "v1") === 640 || undefined,
  );
  const lossAt = Date.now();
  const before = lab.serverLog.length;
  await lab.network.loss(lab.host(1), 0.2);
  const slow = await lab.until(
    "the first report of v1's slow link",
    () => lab.serverLog.slice(before).find((l) => slowReport(l)),
    30_000,
  );
  const slowAt = Date.parse(JSON.parse(slow).time);
  const viewerId: string = JSON.parse(slow).viewerId;
  const confirmed = await lab.until(
    () =>
      `v1 on m: ${lab.serverLog.filter((l) => l.includes("layer")).join(" ")}`,
    () =>
      // After the report: Janus may have begun it on m, unasked.
      lab.serverLog.slice(lab.serverLog.indexOf(slow)).find((l) =>
        l.includes('"sfu-layer-confirmed"') && l.includes(viewerId) &&
        l.includes('"layer":0')
      ),
    20_000,
  );
  const confirmedAt = Date.parse(JSON.parse(confirmed).time);
  await lab.until(
    () => `v1 narrower (${shownWidth(lab, "v1")})`,
    () => shownWidth(lab, "v1") === 320 || undefined,
  );
  return {
    viewerId,
    reportMs: slowAt - lossAt,
    by: slowReport(slow)!,
    switchMs: confirmedAt - slowAt,
  };
}
