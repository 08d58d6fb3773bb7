/**
 * Recovery from the everyday faults (issue 11), made for real in the fault
 * lab (tests/e2e/support/): 1 broadcaster and 2 viewers, Chromium, each in
 * its own network namespace, the server in the hub. For each fault, `runs`
 * times: time from the end of the fault to steady video (1 s of frames no
 * more than 250 ms apart), the longest frame gap, how long "live" stood over
 * a frozen picture, and the connections built. Baseline, same run: the
 * longest frame gap over a window of the same length without any fault.
 * With RESUME_SECRET (every fault, and the key rotated), then with the
 * default configuration (no secret: the key kept in STATE_DIR; the restarts
 * and the key rotated). `sfu`: the broadcaster's address change with the
 * stream through Janus (SFU_AFTER_VIEWERS=0): its one connection to Janus
 * restarts its ICE.
 *
 *   deno task bench:recovery [runs] [secret|state|both|sfu] [part of a fault's name]
 */
import * as esbuild from "esbuild";
import { FaultLab } from "../tests/e2e/support/fault-lab.ts";
import {
  type Fault,
  FAULTS,
  KEY_ROTATED,
  measure,
  RESTARTS,
  steady,
} from "../tests/e2e/support/faults.ts";
import { quantile } from "./quantile.ts";

/** Issue 11's targets, by fault. */
const TARGETS: Record<string, string> = {
  "broadcaster's address changes (Wi-Fi to cellular)": "≤ 3 s to steady",
  "broadcaster's link down 10 s": "≤ 3 s to steady after the link is back",
  "server SIGTERM, started again 3 s later (a deploy)": "longest gap ≤ 500 ms",
  "server SIGKILL, started again 3 s later": "no connection rebuilt",
  "a viewer's link down 10 s": "",
  [KEY_ROTATED.name]:
    "rebuilt make before break: longest gap ≤ 250 ms, live throughout",
};

/** Issue 24's targets with the default configuration (no secret). */
const DEFAULT_CONFIG_TARGETS: Record<string, string> = {
  ...TARGETS,
  [RESTARTS[0].name]: "longest gap ≤ 1 s, no connection rebuilt",
  [RESTARTS[1].name]: "longest gap ≤ 1 s, no connection rebuilt",
};

interface Row {
  toSteady: number[];
  gap: number[];
  frozen: number[];
  built: number[];
  /** Viewer recoveries during which the element left `live`. */
  leftLive: number;
  /** Key frames the viewers asked for over the socket (`keyFrame`). */
  keyFrames: number;
}

const p50max = (values: number[]) =>
  `${quantile(values, 0.5)} / ${Math.max(...values)}`;

/** The longest frame gap of every viewer over `ms` of ordinary streaming. */
async function noFault(lab: FaultLab, ms: number): Promise<number[]> {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const end = Date.now();
  // Reports come in batches: wait for the window's last ones.
  await lab.until(
    "the no-fault window's reports",
    () =>
      lab.viewerNames().every((name) =>
          lab.events(name).some((e) => e.kind === "frame" && e.t > end)
        )
        ? true
        : undefined,
  );
  return lab.viewerNames().map((name) => {
    const frames = lab.events(name).filter((e) =>
      e.kind === "frame" && e.t >= start && e.t <= end
    ).map((e) => e.t);
    return Math.max(...frames.slice(1).map((t, i) => t - frames[i]));
  });
}

export async function recoveryBench(
  runs: number,
  faults: Fault[] = FAULTS,
  resumeKey: "secret" | "state" = "secret",
  sfu = false,
): Promise<string> {
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium", "chromium"],
    resumeKey,
    ...(sfu ? { janus: true, env: { SFU_AFTER_VIEWERS: "0" } } : {}),
  });
  await esbuild.stop();
  await lab.openPages();
  await steady(lab);
  const baseline = await noFault(lab, 10_000);
  const rows = new Map<string, Row>();
  for (let run = 0; run < runs; run++) {
    for (const fault of faults) {
      const result = await measure(lab, fault);
      const row = rows.get(fault.name) ??
        {
          toSteady: [],
          gap: [],
          frozen: [],
          built: [],
          leftLive: 0,
          keyFrames: 0,
        };
      row.keyFrames += result.keyFramesAsked;
      for (const viewer of Object.values(result.viewers)) {
        row.toSteady.push(viewer.toSteadyMs);
        row.gap.push(viewer.longestGapMs);
        row.frozen.push(viewer.liveOverFrozenMs);
        if (viewer.states.some((state) => state !== "live")) row.leftLive++;
      }
      row.built.push(
        result.broadcasterConnections +
          Object.values(result.viewers).reduce(
            (sum, v) => sum + v.connectionsBuilt,
            0,
          ),
      );
      rows.set(fault.name, row);
      await steady(lab);
    }
  }
  const targets = resumeKey === "state" ? DEFAULT_CONFIG_TARGETS : TARGETS;
  const lines = [
    `${
      resumeKey === "state"
        ? "Default configuration (no secret: the key kept in STATE_DIR, a directory the lab made)"
        : "With RESUME_SECRET"
    }${
      sfu
        ? ", the stream through Janus (SFU_AFTER_VIEWERS=0: the broadcaster's one connection is to Janus)"
        : ""
    }. ${runs} run(s) per fault, 2 viewers each: figures are p50 / max over ${
      runs * 2
    } viewer recoveries (connections: over ${runs} runs, both sides counted). Baseline (no fault, same run): longest frame gap over 10 s, p50 / max ${
      p50max(baseline)
    } ms.`,
    "",
    "| fault | to steady video after the fault, ms | longest frame gap, ms | live over a frozen picture, ms | connections built per run | left live (viewer recoveries) | key frames asked (all runs) | target |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, row] of rows) {
    lines.push(
      `| ${name} | ${p50max(row.toSteady)} | ${p50max(row.gap)} | ${
        p50max(row.frozen)
      } | ${
        p50max(row.built)
      } | ${row.leftLive} of ${row.gap.length} | ${row.keyFrames} | ${
        targets[name] ?? ""
      } |`,
    );
  }
  return lines.join("\n");
}

/** Issue 24: the restarts and a rotated key, with the default configuration. */
export function defaultConfigRestarts(runs: number): Promise<string> {
  return recoveryBench(runs, [...RESTARTS, KEY_ROTATED], "state");
}

/**
 * The broadcaster's address change with its stream through Janus, with the
 * default configuration (no secret), as most deployments run.
 */
export function sfuAddressChange(runs: number): Promise<string> {
  return recoveryBench(
    runs,
    FAULTS.filter((f) => f.name.includes("address changes")),
    "state",
    true,
  );
}

if (import.meta.main) {
  const runs = Number(Deno.args[0] ?? 5);
  const only = Deno.args[1];
  // A third argument: only the faults whose name has it, in each configuration.
  const part = Deno.args[2];
  const named = [...FAULTS, ...RESTARTS, KEY_ROTATED].filter((fault, i, all) =>
    fault.name.includes(part ?? "") &&
    all.findIndex((f) => f.name === fault.name) === i
  );
  if (only === "sfu") {
    console.log(await sfuAddressChange(runs));
    Deno.exit(0);
  }
  if (only !== "state") {
    console.log(
      await recoveryBench(runs, part ? named : [...FAULTS, KEY_ROTATED]),
    );
  }
  if (only !== "secret") {
    console.log(
      `\n${await (part
        ? recoveryBench(runs, named, "state")
        : defaultConfigRestarts(runs))}`,
    );
  }
}
