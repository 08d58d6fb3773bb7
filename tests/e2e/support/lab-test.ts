/**
 * One namespace ("lab") test: a fault lab built for it (fault-lab.ts), the
 * body run against it, the lab torn down after, also when the body throws.
 * Ignored, never passed, where the lab cannot be built: no root or
 * `ip netns`, or a browser, Janus or another binary it needs missing.
 */
import { CHROMIUM_PATH, FIREFOX_PATH } from "../../../scripts/browsers.ts";
import { type BrowserName, FaultLab, type LabOptions } from "./fault-lab.ts";
import { installed, missing } from "./requirements.ts";
import { TestNetwork } from "./test-network.ts";

export interface LabTestOptions extends LabOptions {
  /**
   * What else the test needs, by name: whether this machine has it (e.g.
   * `{ "whip-client": installed("whip-client") }`).
   */
  requires?: Record<string, boolean>;
}

const network = await TestNetwork.available();
/** The server's last lines shown with a failed test. */
const FAILURE_LOG_LINES = 40;
const BROWSER_PATHS: Record<BrowserName, string> = {
  chromium: CHROMIUM_PATH,
  firefox: FIREFOX_PATH,
};

/** Registers `name`: a lab built from `options`, `body` run against it. */
export function labTest(
  name: string,
  options: LabTestOptions,
  body: (lab: FaultLab, t: Deno.TestContext) => Promise<void>,
): void {
  const { requires = {}, ...lab } = options;
  const needs: Record<string, boolean> = { "root (ip netns)": network };
  for (const browser of new Set(lab.browsers)) {
    needs[browser] = installed(BROWSER_PATHS[browser]);
  }
  if (lab.janus) needs.janus = installed("janus");
  if (lab.turn) needs.coturn = installed("turnserver");
  if (lab.turn?.includes("tls") && (lab.turnTrust ?? "ca") === "ca") {
    needs["certutil (libnss3-tools)"] = installed("certutil");
  }
  if (lab.nodes) {
    needs["redis-server"] = installed("redis-server");
    needs.nginx = installed("nginx") || installed("/usr/sbin/nginx");
  }
  Deno.test({
    name,
    ignore: missing({ ...needs, ...requires }).length > 0,
    // The readers of the lab's processes are still draining at its end.
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      await using started = await FaultLab.start(lab);
      try {
        await body(started, t);
      } catch (error) {
        // A failure in CI is read from its log alone: what the server said
        // last (a flake seldom comes back when run by hand).
        const tail = started.serverLog.slice(-FAILURE_LOG_LINES);
        console.error(`the server's last ${tail.length} lines:`);
        console.error(tail.join("\n"));
        throw error;
      }
    },
  });
}
