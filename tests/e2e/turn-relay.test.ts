/**
 * TURN with a real coturn (Debian's `turnserver`, coturn-process.ts),
 * started here on 127.0.0.1 with `use-auth-secret` and, for this test only,
 * loopback peers allowed. TURN over TCP and TLS, behind firewalls that drop
 * all UDP: turn-tcp.test.ts.
 * Relay-only elements get video through it with the server's time-limited
 * credentials, and fail with a clear state when the secret is wrong.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { framesIn, launchChromium, waitForState } from "./support/chromium.ts";
import { serveBundles } from "./support/bundle-site.ts";
import { CoturnProcess } from "./support/coturn-process.ts";

const TURN_SECRET = "coturn-shared-secret-for-tests";

/** A UDP port nothing listens on right now. */
function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  return new Promise((resolve) =>
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    })
  );
}

/**
 * coturn on loopback, UDP only, as the test's TURN URL says. A TCP listener
 * on the same port number, which freeUdpPort does not check, once found it
 * taken late in a full run; coturn then retried the bind forever and never
 * answered.
 */
async function startCoturn(): Promise<CoturnProcess> {
  return await CoturnProcess.start({
    secret: TURN_SECRET,
    port: await freeUdpPort(),
    tcp: false,
    allowLoopbackPeers: true,
  });
}

const PAGES = {
  "send.html":
    `<!doctype html><script type="module" src="/live-broadcaster.js"></script>
<live-broadcaster stream-id="turn-test" ice-transport-policy="relay" autostart></live-broadcaster>`,
  "watch.html": `<!doctype html><script>
  // Kept for failure reports.
  window.pcs = [];
  const Native = RTCPeerConnection;
  window.RTCPeerConnection = class extends Native { constructor(c) { super(c); pcs.push(this); } };
</script>
<script type="module" src="/live-viewer.js"></script>
<live-viewer stream-id="turn-test" ice-transport-policy="relay"></live-viewer>
<script>
  window.liveErrors = [];
  document.querySelector("live-viewer").addEventListener("live-error", (e) => liveErrors.push(e.code));
</script>`,
};

Deno.test({
  name:
    "relay only: video flows through coturn with the server's credentials; a wrong secret fails clearly",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using coturn = await startCoturn();
    const turnUrls = [coturn.url("udp")];
    await using browser = await launchChromium();

    {
      await using site = await serveBundles(PAGES, {
        turnUrls,
        turnSecret: TURN_SECRET,
      });
      const sender = await browser.newPage();
      await sender.goto(`${site.base}/send.html`);
      await waitForState(sender, "live-broadcaster", "live");
      const watcher = await browser.newPage();
      await watcher.goto(`${site.base}/watch.html`);
      try {
        await waitForState(watcher, "live-viewer", "live");
      } catch (error) {
        // If this fails, say what ICE and coturn saw.
        const pairs = await watcher.evaluate(async () => {
          const pcs = (window as unknown as { pcs: RTCPeerConnection[] }).pcs;
          return JSON.stringify(
            await Promise.all(pcs.map(async (pc) => {
              const candidates: string[] = [];
              (await pc.getStats()).forEach((s: Record<string, unknown>) => {
                if (s.type === "candidate-pair") {
                  candidates.push(String(s.state));
                }
                if (
                  s.type === "local-candidate" || s.type === "remote-candidate"
                ) {
                  candidates.push(`${s.type}:${s.candidateType}`);
                }
              });
              return {
                ice: pc.iceConnectionState,
                gathering: pc.iceGatheringState,
                connection: pc.connectionState,
                candidates,
              };
            })),
          );
        }).catch(() => "unavailable");
        throw new Error(
          `${
            (error as Error).message
          }\nviewer stats: ${pairs}\ncoturn log tail:\n${coturn.recentLog()}`,
        );
      }
      assert.ok(await framesIn(watcher, "live-viewer") > 0);
      const stats = await watcher.evaluate(() =>
        (document.querySelector("live-viewer") as unknown as {
          getStats(): Promise<{ candidateType?: string }>;
        })
          .getStats()
      );
      assert.equal(stats.candidateType, "relay");
      await sender.close();
      await watcher.close();
    }

    {
      await using site = await serveBundles(PAGES, {
        turnUrls,
        turnSecret: "not-the-coturn-secret",
      });
      const sender = await browser.newPage();
      await sender.goto(`${site.base}/send.html`);
      await waitForState(sender, "live-broadcaster", "live");
      const watcher = await browser.newPage();
      await watcher.goto(`${site.base}/watch.html`);
      await waitForState(watcher, "live-viewer", "error");
      const shown = await watcher.evaluate(async () => {
        const viewer = document.querySelector("live-viewer") as
          & HTMLElement
          & { updateComplete: Promise<boolean> };
        // The English error texts are a chunk: rendered once it is here.
        await viewer.updateComplete;
        return {
          text: viewer.shadowRoot!.querySelector("[part=status]")!.textContent,
          errors: (window as unknown as { liveErrors: string[] }).liveErrors,
        };
      });
      assert.deepEqual(shown.errors, ["turn-auth-failed"]);
      assert.match(shown.text!, /relay server refused its credentials/);
      await waitForState(sender, "live-broadcaster", "error");
    }
  },
});
