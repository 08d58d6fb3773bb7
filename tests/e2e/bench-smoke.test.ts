/**
 * The benchmarks at toy size (`deno task bench --smoke`), so they do not rot:
 * every section runs and reports figures. Speed is not asserted here; it is
 * measured by `deno task bench` into bench/RESULTS.md.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
/** The file bench/dev-rebuild.ts edits and must restore. */
const EDITED = `${ROOT}components/live-viewer.ts`;

Deno.test({
  name: "every benchmark runs end to end at smoke size and reports figures",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const before = await Deno.readTextFile(EDITED);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "bench/run.ts", "--smoke"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    for (
      const section of [
        "Signaling load",
        "Cluster",
        "Time to first frame",
        "Abuse isolation",
        "Broadcaster scaling",
        "Through the SFU",
        "SFU instance failover",
        "A viewer on a lossy link",
        "SFU node death",
        "WHEP first frame",
        "TURN over TCP and TLS",
        "End-to-end encryption",
        "SFU capacity",
        "Recovery from faults",
        "Recovery through the SFU",
        "Restart with the default configuration",
        "Bundle sizes",
        "Dev rebuild",
      ]
    ) {
      assert.match(text, new RegExp(`### ${section}`));
    }
    // A failing bench leaves its section saying so (and the run exits 1).
    assert.doesNotMatch(text, /Not measured/);
    // The baselines and ratios are there, with numbers in them.
    assert.match(text, /\| 20 \| bare relay \| [\d.]+ \|/);
    assert.match(text, /\*\*ratio\*\*.*\d+\.\d+x/);
    assert.match(text, /\| 20 \| 2 nodes \+ Redis[^|]*\| [\d.]+ \|/);
    assert.match(text, /noticed by a viewer on another node.*p50 [\d.]+ s/);
    assert.match(text, /bare RTCPeerConnection pair \| \d+ \/ \d+/);
    assert.match(text, /first frame ratio\*\* \| p50 \d+\.\d+x/);
    assert.match(text, /\| idle \| [\d.]+ \| [\d.]+ \|/);
    assert.match(
      text,
      /\| 1 \| [\d.]+ \| \d+ \| 1500 \| [\d.]+ \/ [\d.]+ \| \d+ \|/,
    );
    assert.match(
      text,
      /\| 4 \| 2 \(cascade, 2 each\) \| [\d.]+ \/ [\d.]+ \| \d+% \|/,
    );
    assert.match(text, /\| other instance \| 2 \| \d+ \/ \d+ \| \d+ \/ \d+ \|/);
    assert.match(text, /\| Firefox, server offer \| 1 \| \d+ \/ \d+ \|/);
    assert.match(
      text,
      /\| peer to peer \| TURN\/TLS, 40 ms away \| \d+ \| \d+ \/ \d+ \| [\d.]+x \/ [\d.]+x \|/,
    );
    assert.match(
      text,
      /First frame p50 against TURN\/UDP as far: peer to peer, on the lab's link: TCP [+-]\d+ ms, TLS [+-]\d+ ms/,
    );
    assert.match(
      text,
      /\| defaults \| 2 \| \d+ \/ \d+ \| \d+ \/ \d+ \| \d+ \/ \d+ \| \d+ \| \d+ \|/,
    );
    assert.match(text, /\| server SIGTERM[^|]*\| \d+ \/ \d+ \| \d+ \/ \d+ \|/);
    assert.match(text, /`live-viewer\.js` \| \d+ \| \d+ \| \d+/);
    assert.match(
      text,
      /from save to all 4 bundles rebuilt in memory: p50 \d+ ms/,
    );
    // The source edited by the rebuild bench is back as it was.
    assert.equal(await Deno.readTextFile(EDITED), before);
  },
});
