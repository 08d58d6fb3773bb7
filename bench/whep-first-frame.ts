/**
 * First frame through our WHEP endpoint (issue 23), in the fault lab: a
 * Chromium `<live-broadcaster>` through Janus; a bare Chromium WHEP player
 * offering (a client offer: its numbers match Janus's) against a bare
 * Firefox WHEP player asking for the server's offer (its own numbers
 * differ: the empty POST, Janus's offer, its answer by PATCH). Per player:
 * from its script's start to its first presented frame. Alternating which
 * goes first, one player at a time, in the same run.
 *
 *   deno task bench:whep [--runs 5]
 */
import { parseArgs } from "node:util";
import { FaultLab } from "../tests/e2e/support/fault-lab.ts";
import {
  broadcasterPage,
  whepPlayerPage,
  whepServerOfferPage,
} from "../tests/e2e/support/lab-pages.ts";
import { quantile } from "./quantile.ts";

const PLAYERS = {
  "Chromium, client offer": 1,
  "Firefox, server offer": 2,
} as const;
type Player = keyof typeof PLAYERS;

/** Opens `index`'s player and measures its first frame; then closes it. */
async function firstFrame(lab: FaultLab, index: number): Promise<number> {
  const name = lab.name(index);
  const since = lab.events(name).length;
  await lab.openPage(index);
  const fresh = () => lab.events(name).slice(since);
  const ms = await lab.until(`${name}'s first frame`, () => {
    const start = fresh().find((e) => e.kind === "attach")?.t;
    const frame = fresh().find((e) => e.kind === "frame")?.t;
    return start !== undefined && frame !== undefined
      ? frame - start
      : undefined;
  });
  await lab.closeBrowser(index);
  return ms;
}

export async function whepFirstFrame(runs: number): Promise<string> {
  await using lab = await FaultLab.start({
    browsers: ["chromium", "chromium", "firefox"],
    janus: true,
    pages: [broadcasterPage, whepPlayerPage, whepServerOfferPage],
  });
  await lab.openPage(0);
  await lab.untilState("b", "live");
  const samples: Record<Player, number[]> = {
    "Chromium, client offer": [],
    "Firefox, server offer": [],
  };
  const order = Object.keys(PLAYERS) as Player[];
  for (let i = 0; i < runs; i++) {
    // Alternating, so a slower moment of the machine hits both.
    for (const player of i % 2 ? order.toReversed() : order) {
      samples[player].push(await firstFrame(lab, PLAYERS[player]));
    }
  }
  const lines = [
    "| player | runs | first frame p50 / max ms |",
    "|---|---|---|",
  ];
  for (const [player, ms] of Object.entries(samples)) {
    lines.push(
      `| ${player} | ${ms.length} | ${quantile(ms, 0.5)} / ${
        Math.max(...ms)
      } |`,
    );
  }
  const base = samples["Chromium, client offer"];
  const server = samples["Firefox, server offer"];
  const p50 = quantile(server, 0.5) / quantile(base, 0.5);
  const worst = Math.max(...server) / Math.max(...base);
  const met = (ratio: number) => ratio <= 1.3 ? "met" : "missed";
  lines.push(
    "",
    `- Server offer (Firefox) against client offer (Chromium): p50 **${
      p50.toFixed(2)
    }x** (${met(p50)}), worst **${worst.toFixed(2)}x** (${
      met(worst)
    }); target ≤ 1.3x.`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "5" } },
  });
  console.log(await whepFirstFrame(Number(values.runs)));
}
