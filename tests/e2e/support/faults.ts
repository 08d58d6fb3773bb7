/**
 * The everyday faults of issue 11, made for real in the fault lab, and what
 * each did to every viewer. Host 0 broadcasts; the others watch.
 */
import type { FaultLab } from "./fault-lab.ts";
import { type Recovery, recovery, STEADY_MS } from "./recovery-metrics.ts";

export interface Fault {
  name: string;
  /** Makes the fault; resolves with when it began and when it ended. */
  make(lab: FaultLab): Promise<{ start: number; end: number }>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `ms` of fault: the fault's own length, not a wait for an event. */
async function during(
  ms: number,
  begin: () => Promise<void>,
  end: () => Promise<void>,
): Promise<{ start: number; end: number }> {
  const start = Date.now();
  await begin();
  await pause(ms);
  await end();
  return { start, end: Date.now() };
}

export const FAULTS: Fault[] = [
  {
    name: "broadcaster's address changes (Wi-Fi to cellular)",
    async make(lab) {
      const start = Date.now();
      await lab.network.changeAddress(lab.host(0));
      return { start, end: Date.now() };
    },
  },
  {
    name: "broadcaster's link down 10 s",
    make: (lab) =>
      during(
        10_000,
        () => lab.network.linkDown(lab.host(0)),
        () => lab.network.linkUp(lab.host(0)),
      ),
  },
  {
    name: "server SIGTERM, started again 3 s later (a deploy)",
    make: (lab) =>
      during(
        3_000,
        () => lab.stopSignaling("SIGTERM"),
        () => lab.startSignaling(),
      ),
  },
  {
    name: "server SIGKILL, started again 3 s later",
    make: (lab) =>
      during(
        3_000,
        () => lab.stopSignaling("SIGKILL"),
        () => lab.startSignaling(),
      ),
  },
  {
    name: "a viewer's link down 10 s",
    make: (lab) =>
      during(
        10_000,
        () => lab.network.linkDown(lab.host(lab.viewerCount)),
        () => lab.network.linkUp(lab.host(lab.viewerCount)),
      ),
  },
];

export interface FaultResult {
  fault: string;
  start: number;
  end: number;
  /** Per viewer name. */
  viewers: Record<string, Recovery>;
  /** Connections the broadcaster built from the fault to steady video. */
  broadcasterConnections: number;
  /** States and errors the broadcaster showed meanwhile. */
  broadcasterStates: string[];
  broadcasterErrors: string[];
}

/**
 * Every viewer watching steadily and every page back in the server's stream
 * (video outlives a restart; the sockets come back with backoff): the lab is
 * ready for the next fault, which must not overlap the last one's recovery.
 */
export async function steady(lab: FaultLab, timeoutMs = 30_000): Promise<void> {
  await lab.healthWhen(
    (health) =>
      health.viewers === lab.viewerCount && health.liveStreams === 1 &&
      health.connections === lab.viewerCount + 1,
    timeoutMs,
  );
  const since = Date.now();
  await lab.until(
    () => `steady video in every viewer (${describe(lab)})`,
    () =>
      lab.viewerNames().every((name) =>
          recovery(lab.events(name), since, since) !== undefined
        )
        ? true
        : undefined,
    timeoutMs,
  );
}

/** Makes `fault` and waits for every viewer to have steady video again. */
export async function measure(
  lab: FaultLab,
  fault: Fault,
  timeoutMs = 30_000,
): Promise<FaultResult> {
  const { start, end } = await fault.make(lab);
  const viewers = await lab.until(
    () => `steady video after "${fault.name}" (${describe(lab)})`,
    () => {
      const results: Record<string, Recovery> = {};
      for (const name of lab.viewerNames()) {
        const result = recovery(lab.events(name), start, end);
        if (!result) return undefined;
        results[name] = result;
      }
      return results;
    },
    timeoutMs,
  );
  const until = Math.max(
    ...Object.values(viewers).map((r) => end + r.toSteadyMs + STEADY_MS),
  );
  const window = lab.events("b").filter((e) => e.t >= start && e.t <= until);
  return {
    fault: fault.name,
    start,
    end,
    viewers,
    broadcasterConnections: window.filter((e) => e.kind === "pc").length,
    broadcasterStates: window.filter((e) => e.kind === "state").map((e) =>
      e.state!
    ),
    broadcasterErrors: window.filter((e) => e.kind === "error").map((e) =>
      e.code!
    ),
  };
}

/** The latest state of each page, for timeout messages. */
function describe(lab: FaultLab): string {
  return ["b", ...lab.viewerNames()].map((name) => {
    const events = lab.events(name);
    const state = events.findLast((e) => e.kind === "state")?.state;
    const frames = events.filter((e) => e.kind === "frame").length;
    return `${name}: ${state}, ${frames} frames`;
  }).join("; ");
}
