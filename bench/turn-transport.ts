/**
 * What TURN over TCP and TLS costs in time to first frame (issue 23), in
 * the fault lab: coturn 4.6 in the hub with UDP, TCP and TLS listeners; a
 * Chromium `<live-broadcaster>` and a Chromium `<live-viewer>`, each in its
 * own namespace, both `ice-transport-policy="relay"` with one TURN URL:
 * TURN over UDP (the baseline), over TCP, over TLS. Once with coturn on
 * the lab's own link (a round trip well under a millisecond), once with
 * coturn `FAR_MS` ms of round trip away from both browsers
 * (tests/e2e/support/delay-proxy.ts in front of it: the namespaces have no
 * `netem`). A direct connection (host candidates, no TURN) is measured
 * beside them for scale. Peer to peer, then through Janus (the viewer's
 * relay to Janus's host address). Per run: fresh browsers and a fresh
 * stream; the broadcaster live first; the viewer's first frame from just
 * before its element is parsed. The viewer's selected pair is checked to
 * be what the run asked for. The ways take turns going first, in one lab
 * per path.
 *
 *   deno task bench:turn [--runs 10] [--no-sfu]
 */
import { parseArgs } from "node:util";
import { TurnCredentials } from "../server/security/turn-credentials.ts";
import type { TurnTransport } from "../tests/e2e/support/coturn-process.ts";
import {
  FaultLab,
  LAB_TURN_PORT,
  LAB_TURN_SECRET,
  LAB_TURNS_PORT,
} from "../tests/e2e/support/fault-lab.ts";
import type { LabPage } from "../tests/e2e/support/lab-pages.ts";
import { splitLines } from "../tests/e2e/support/lines.ts";
import {
  iceBroadcasterPage,
  type IceChoice,
  iceViewerPage,
  type SelectedPair,
} from "../tests/e2e/support/turn-pages.ts";
import { quantile } from "./quantile.ts";

/** The far coturn's round trip from each browser. */
export const FAR_MS = 40;
/** The delaying proxies' ports in the hub: plain (UDP, TCP) and TLS. */
const FAR_PORT = 4478;
const FAR_TLS_PORT = 6349;

interface Way {
  label: string;
  /** No TURN: host candidates. */
  transport: TurnTransport | "direct";
  far: boolean;
}

const WAYS: Way[] = [
  ...(["udp", "tcp", "tls"] as const).flatMap((transport) =>
    [false, true].map((far) => ({
      label: `TURN/${transport.toUpperCase()}${
        far ? `, ${FAR_MS} ms away` : ""
      }`,
      transport,
      far,
    }))
  ),
  { label: "direct (no TURN)", transport: "direct", far: false },
];

/** What the next pages opened use (pages are made when they open). */
interface Current {
  ice: IceChoice;
  streamId: string;
}

async function iceFor(lab: FaultLab, way: Way): Promise<IceChoice> {
  if (way.transport === "direct") return { iceServers: [], relay: false };
  const hub = lab.network.hub.address;
  // By address, TLS too (its certificate has the address): with a name,
  // Chromium waited for the namespace's unreachable DNS server first.
  const url = !way.far
    ? lab.coturn!.url(way.transport, true)
    : way.transport === "tls"
    ? `turns:${hub}:${FAR_TLS_PORT}?transport=tcp`
    : `turn:${hub}:${FAR_PORT}?transport=${way.transport}`;
  const turn = new TurnCredentials({
    urls: [url],
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
    streamId: `${lab.streamId}-${WAYS.indexOf(way)}-${run}`,
  };
  const since = { b: lab.events("b").length, v1: lab.events("v1").length };
  const fresh = (name: "b" | "v1") => lab.events(name).slice(since[name]);
  await lab.openPage(0);
  await lab.until(
    `the broadcaster live (${way.label})`,
    () => fresh("b").some((e) => e.state === "live") || undefined,
  );
  await lab.openPage(1);
  const ms = await lab.until(`the first frame over ${way.label}`, () => {
    const start = fresh("v1").find((e) => e.kind === "attach")?.t;
    const frame = fresh("v1").find((e) => e.kind === "frame")?.t;
    return start !== undefined && frame !== undefined
      ? frame - start
      : undefined;
  });
  const pair = await lab.until(`the viewer's pair over ${way.label}`, () => {
    const event = fresh("v1").findLast((e) => e.kind === "pair");
    return event ? JSON.parse(event.state!) as SelectedPair : undefined;
  });
  const direct = way.transport === "direct";
  if (
    pair.local !== (direct ? "host" : "relay") ||
    (!direct && pair.relayProtocol !== way.transport)
  ) {
    throw new Error(`asked for ${way.label}, got ${JSON.stringify(pair)}`);
  }
  await lab.closeBrowser(1);
  await lab.closeBrowser(0);
  return ms;
}

/** delay-proxy.ts in the hub in front of coturn's `target` port. */
async function farProxy(
  lab: FaultLab,
  port: number,
  target: number,
): Promise<Deno.ChildProcess> {
  const child = lab.network.command(lab.network.hub.ns, Deno.execPath(), [
    "run",
    "-A",
    new URL("../tests/e2e/support/delay-proxy.ts", import.meta.url).pathname,
    lab.network.hub.address,
    String(port),
    String(target),
    String(FAR_MS / 2),
  ], { stdout: "piped", stderr: "null" }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream())
    .pipeThrough(splitLines()).getReader();
  const { value } = await lines.read();
  if (!value?.includes('"listening"')) {
    throw new Error(`delay-proxy did not start: ${value}`);
  }
  lines.cancel().catch(() => {});
  return child;
}

/** One lab, `runs` first frames per way, interleaved. */
async function measurePath(
  runs: number,
  sfu: boolean,
): Promise<number[][]> {
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
  const proxies = [
    await farProxy(lab, FAR_PORT, LAB_TURN_PORT),
    await farProxy(lab, FAR_TLS_PORT, LAB_TURNS_PORT),
  ];
  try {
    const samples = WAYS.map(() => [] as number[]);
    for (let run = 0; run < runs; run++) {
      // Each way first in turn, so a slow moment hits all of them.
      for (let i = 0; i < WAYS.length; i++) {
        const index = (run + i) % WAYS.length;
        samples[index].push(
          await firstFrame(lab, current, WAYS[index], run),
        );
      }
    }
    return samples;
  } finally {
    for (const proxy of proxies) {
      proxy.kill("SIGKILL");
      await proxy.status;
    }
  }
}

/** `runs` per way, peer to peer and (with `sfu`) through Janus. */
export async function turnTransport(
  runs: number,
  sfu = true,
): Promise<string> {
  const paths: [string, number[][]][] = [
    ["peer to peer", await measurePath(runs, false)],
  ];
  if (sfu) paths.push(["through Janus", await measurePath(runs, true)]);
  const lines = [
    "| path | connection | runs | first frame p50 / worst ms | vs TURN/UDP as far p50 / worst |",
    "|---|---|---|---|---|",
  ];
  const costs: string[] = [];
  for (const [path, samples] of paths) {
    const of = (transport: Way["transport"], far: boolean) =>
      samples[
        WAYS.findIndex((w) => w.transport === transport && w.far === far)
      ];
    for (const [index, way] of WAYS.entries()) {
      const ms = samples[index];
      const base = of("udp", way.far);
      lines.push(
        `| ${path} | ${way.label} | ${ms.length} | ${quantile(ms, 0.5)} / ${
          Math.max(...ms)
        } | ${(quantile(ms, 0.5) / quantile(base, 0.5)).toFixed(2)}x / ${
          (Math.max(...ms) / Math.max(...base)).toFixed(2)
        }x |`,
      );
    }
    for (const far of [false, true]) {
      const more = (transport: Way["transport"]) => {
        const ms = quantile(of(transport, far), 0.5) -
          quantile(of("udp", far), 0.5);
        return `${ms >= 0 ? "+" : ""}${ms} ms`;
      };
      costs.push(
        `${path}, ${far ? `${FAR_MS} ms away` : "on the lab's link"}: TCP ${
          more("tcp")
        }, TLS ${more("tls")}`,
      );
    }
  }
  lines.push(
    "",
    `- First frame p50 against TURN/UDP as far: ${costs.join("; ")}.`,
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
  console.log(await turnTransport(Number(values.runs), !values["no-sfu"]));
}
