/**
 * What TURN over TCP and TLS costs in time to first frame (issue 23), in
 * the fault lab: coturn in the hub with UDP, TCP and TLS listeners; a
 * Chromium `<live-broadcaster>` and a Chromium `<live-viewer>`, each in its
 * own namespace, both `ice-transport-policy="relay"` with one TURN URL:
 * TURN over UDP (the baseline), over TCP, over TLS. A direct connection
 * (host candidates, no TURN) is measured beside them for scale. Peer to
 * peer, then through Janus (the viewer's relay to Janus's host address).
 * Per run: fresh browsers and a fresh stream; the broadcaster live first;
 * the viewer's first frame from just before its element is parsed. The
 * viewer's selected pair is checked to be what the run asked for. The
 * transports alternate run by run, in the same lab.
 *
 *   deno task bench:turn [--runs 10] [--no-sfu]
 */
import { parseArgs } from "node:util";
import { TurnCredentials } from "../server/security/turn-credentials.ts";
import type { TurnTransport } from "../tests/e2e/support/coturn-process.ts";
import { FaultLab, LAB_TURN_SECRET } from "../tests/e2e/support/fault-lab.ts";
import type { LabPage } from "../tests/e2e/support/lab-pages.ts";
import {
  iceBroadcasterPage,
  type IceChoice,
  iceViewerPage,
  type SelectedPair,
} from "../tests/e2e/support/turn-pages.ts";
import { quantile } from "./quantile.ts";

type Way = "direct" | TurnTransport;
const WAYS: Way[] = ["udp", "tcp", "tls", "direct"];
const LABEL: Record<Way, string> = {
  direct: "direct (no TURN)",
  udp: "TURN/UDP",
  tcp: "TURN/TCP",
  tls: "TURN/TLS",
};

/** What the next pages opened use (pages are made when they open). */
interface Current {
  ice: IceChoice;
  streamId: string;
}

async function iceFor(lab: FaultLab, way: Way): Promise<IceChoice> {
  if (way === "direct") return { iceServers: [], relay: false };
  const turn = new TurnCredentials({
    // By address, TLS too (its certificate has the address): with a name,
    // Chromium waited for the namespace's unreachable DNS server first.
    urls: [lab.coturn!.url(way, true)],
    secret: LAB_TURN_SECRET,
    ttlSeconds: 600,
  });
  return { iceServers: await turn.iceServersFor("bench"), relay: true };
}

/**
 * One run: broadcaster and viewer opened with `way`, the broadcaster live
 * first; resolves with the viewer's first frame (ms from its attach).
 */
async function firstFrame(
  lab: FaultLab,
  current: { value: Current },
  way: Way,
  run: number,
): Promise<number> {
  current.value = {
    ice: await iceFor(lab, way),
    streamId: `${lab.streamId}-${way}-${run}`,
  };
  const since = { b: lab.events("b").length, v1: lab.events("v1").length };
  const fresh = (name: "b" | "v1") => lab.events(name).slice(since[name]);
  await lab.openPage(0);
  await lab.until(
    `the broadcaster live (${way})`,
    () => fresh("b").some((e) => e.state === "live") || undefined,
  );
  await lab.openPage(1);
  const ms = await lab.until(`the first frame over ${way}`, () => {
    const start = fresh("v1").find((e) => e.kind === "attach")?.t;
    const frame = fresh("v1").find((e) => e.kind === "frame")?.t;
    return start !== undefined && frame !== undefined
      ? frame - start
      : undefined;
  });
  const pair = await lab.until(`the viewer's pair over ${way}`, () => {
    const event = fresh("v1").findLast((e) => e.kind === "pair");
    return event ? JSON.parse(event.state!) as SelectedPair : undefined;
  });
  const expected = way === "direct" ? "host" : "relay";
  if (
    pair.local !== expected ||
    (way !== "direct" && pair.relayProtocol !== way)
  ) {
    throw new Error(`asked for ${way}, got ${JSON.stringify(pair)}`);
  }
  await lab.closeBrowser(1);
  await lab.closeBrowser(0);
  return ms;
}

/** One lab, `runs` first frames per way, interleaved. */
async function measurePath(
  runs: number,
  sfu: boolean,
): Promise<Record<Way, number[]>> {
  const current = {
    value: { ice: { iceServers: [], relay: false }, streamId: "" } as Current,
  };
  const page =
    (make: (page: LabPage, ice: IceChoice) => string) => (page: LabPage) =>
      make({ ...page, streamId: current.value.streamId }, current.value.ice);
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium"],
    turn: ["udp", "tcp", "tls"],
    // Nothing to install; the CA in NSS makes no difference to the times.
    turnTrust: "certificate",
    pages: [page(iceBroadcasterPage), page(iceViewerPage)],
    ...(sfu ? { janus: true, env: { SFU_AFTER_VIEWERS: "0" } } : {}),
  });
  const samples = Object.fromEntries(
    WAYS.map((way) => [way, [] as number[]]),
  ) as Record<Way, number[]>;
  for (let run = 0; run < runs; run++) {
    // Each way first in turn, so a slow moment hits all of them.
    const order = [
      ...WAYS.slice(run % WAYS.length),
      ...WAYS.slice(0, run % WAYS.length),
    ];
    for (const way of order) {
      samples[way].push(await firstFrame(lab, current, way, run));
    }
  }
  return samples;
}

/** `runs` per way, peer to peer and (with `sfu`) through Janus. */
export async function turnTransport(
  runs: number,
  sfu = true,
): Promise<string> {
  const paths: [string, Record<Way, number[]>][] = [
    ["peer to peer", await measurePath(runs, false)],
    ...(sfu
      ? [["through Janus", await measurePath(runs, true)] as [
        string,
        Record<Way, number[]>,
      ]]
      : []),
  ];
  const lines = [
    "| path | connection | runs | first frame p50 / worst ms | vs TURN/UDP p50 / worst |",
    "|---|---|---|---|---|",
  ];
  const costs: string[] = [];
  for (const [path, samples] of paths) {
    const base = samples.udp;
    for (const way of WAYS) {
      const ms = samples[way];
      lines.push(
        `| ${path} | ${LABEL[way]} | ${ms.length} | ${quantile(ms, 0.5)} / ${
          Math.max(...ms)
        } | ${(quantile(ms, 0.5) / quantile(base, 0.5)).toFixed(2)}x / ${
          (Math.max(...ms) / Math.max(...base)).toFixed(2)
        }x |`,
      );
    }
    const more = (way: Way) => {
      const ms = quantile(samples[way], 0.5) - quantile(base, 0.5);
      return `${ms >= 0 ? "+" : ""}${ms} ms`;
    };
    costs.push(
      `${path}: TCP ${more("tcp")}, TLS ${more("tls")} (no TURN ${
        more("direct")
      })`,
    );
  }
  lines.push(
    "",
    `- First frame p50 against TURN/UDP: ${costs.join("; ")}.`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "10" },
      "no-sfu": { type: "boolean", default: false },
    },
  });
  console.log(
    await turnTransport(Number(values.runs), !values["no-sfu"]),
  );
}
