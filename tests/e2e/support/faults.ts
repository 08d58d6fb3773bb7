/**
 * The everyday faults of issue 11, made for real in the fault lab, and what
 * each did to every viewer. Host 0 broadcasts; the others watch.
 */
import type { FaultLab, LabEvent } from "./fault-lab.ts";
import { type Recovery, recovery, STEADY_MS } from "./recovery-metrics.ts";

export interface Fault {
  name: string;
  /** Makes the fault; resolves with when it began and when it ended. */
  make(lab: FaultLab): Promise<{ start: number; end: number }>;
  /**
   * When what the fault set off is over at a viewer (its `events`), if
   * that is after the fault's end: steady video is looked for from then.
   * `undefined`: not yet.
   */
  settled?(events: LabEvent[], start: number): number | undefined;
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

/** The restarts of FAULTS: a deploy (SIGTERM) and a crash (SIGKILL). */
export const RESTARTS: Fault[] = FAULTS.filter((f) =>
  f.name.startsWith("server SIG")
);

/**
 * A deploy that also rotates the resume key (the state file deleted, or
 * another secret): every claim is refused, so every connection is rebuilt.
 */
export const KEY_ROTATED: Fault = {
  name: "server SIGTERM, resume key rotated, started again 3 s later",
  make: (lab) =>
    during(
      3_000,
      async () => {
        await lab.stopSignaling("SIGTERM");
        await lab.rotateResumeKey();
      },
      () => lab.startSignaling(),
    ),
  // Once the viewer has its new connection and has let the old one go
  // (make before break: the old one closes when the new one shows frames).
  settled(events, start) {
    const after = (state?: string) =>
      events.find((e) =>
        e.t > start &&
        (state ? e.kind === "ice" && e.state === state : e.kind === "pc")
      )?.t;
    const built = after();
    const closed = after("closed");
    return built !== undefined && closed !== undefined
      ? Math.max(built, closed)
      : undefined;
  },
};

export interface FaultResult {
  fault: string;
  start: number;
  end: number;
  /** Per viewer name. */
  viewers: Record<string, Recovery>;
  /** Connections the broadcaster built from the fault to steady video. */
  broadcasterConnections: number;
  /** Key frames the viewers asked for over the socket meanwhile. */
  keyFramesAsked: number;
  /** States and errors the broadcaster showed meanwhile. */
  broadcasterStates: string[];
  broadcasterErrors: string[];
  /**
   * The server's audit lines (joins, leaves and why, refusals) from the
   * fault's start: what a failed assertion shows of the server's side.
   */
  audit: string[];
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
  const logFrom = lab.serverLog.length;
  const { start, end } = await fault.make(lab);
  /** Per viewer: when steady video was looked for from. */
  const from: Record<string, number> = {};
  const viewers = await lab.until(
    () => `steady video after "${fault.name}" (${describe(lab)})`,
    () => {
      const results: Record<string, Recovery> = {};
      for (const name of lab.viewerNames()) {
        const events = lab.events(name);
        const settled = fault.settled ? fault.settled(events, start) : end;
        if (settled === undefined) return undefined;
        from[name] = Math.max(end, settled);
        const result = recovery(events, start, from[name]);
        if (!result) return undefined;
        results[name] = result;
      }
      return results;
    },
    timeoutMs,
  );
  const until = Math.max(
    ...Object.entries(viewers).map(([name, r]) =>
      from[name] + r.toSteadyMs + STEADY_MS
    ),
  );
  const window = lab.events("b").filter((e) => e.t >= start && e.t <= until);
  return {
    fault: fault.name,
    start,
    end,
    viewers,
    broadcasterConnections: window.filter((e) => e.kind === "pc").length,
    keyFramesAsked: lab.viewerNames().flatMap((name) => lab.events(name))
      .filter((e) => e.kind === "keyframe" && e.t >= start && e.t <= until)
      .length,
    broadcasterStates: window.filter((e) => e.kind === "state").map((e) =>
      e.state!
    ),
    broadcasterErrors: window.filter((e) => e.kind === "error").map((e) =>
      e.code!
    ),
    audit: lab.serverLog.slice(logFrom).filter((line) =>
      line.includes('"audit"')
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
