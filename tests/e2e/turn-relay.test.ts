/**
 * TURN with a real coturn (Debian's `turnserver`), started here on 127.0.0.1
 * with `use-auth-secret` and, for this test only, loopback peers allowed.
 * Relay-only elements get video through it with the server's time-limited
 * credentials, and fail with a clear state when the secret is wrong.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { framesIn, launchChromium, waitForState } from "./support/chromium.ts";
import { serveBundles } from "./support/bundle-site.ts";

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

/** Starts turnserver and resolves once it says its UDP listener is open. */
async function startCoturn(): Promise<
  { port: number; recentLog(): string } & AsyncDisposable
> {
  const port = await freeUdpPort();
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/turnserver.conf`,
    [
      "listening-ip=127.0.0.1",
      "relay-ip=127.0.0.1",
      `listening-port=${port}`,
      "min-port=49160",
      "max-port=49260",
      "use-auth-secret",
      `static-auth-secret=${TURN_SECRET}`,
      "realm=live-widgets.test",
      "no-tls",
      "no-dtls",
      // UDP only, as the test's TURN URL says. A TCP listener on the same port
      // number, which freeUdpPort does not check, once found it taken late in
      // a full run; coturn then retried the bind forever and never answered.
      "no-tcp",
      "no-tcp-relay",
      "no-cli",
      "allow-loopback-peers",
      "no-multicast-peers",
      "fingerprint",
      `userdb=${dir}/turndb`,
      "log-file=stdout",
      "simple-log",
      // Without it coturn does not say when its listeners are open.
      "verbose",
    ].join("\n"),
  );
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("turnserver", {
      args: ["-c", `${dir}/turnserver.conf`],
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch (error) {
    throw new Error(`coturn is needed: apt-get install coturn (${error})`);
  }
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = setTimeout(() => child.kill(), 15_000);
  while (!/UDP listener opened on\s*:\s*127\.0\.0\.1/.test(seen)) {
    const { value, done } = await lines.read();
    if (done) throw new Error(`turnserver stopped before listening:\n${seen}`);
    seen += value;
  }
  clearTimeout(deadline);
  // Keep reading so its output never fills the pipe; the tail is kept for
  // failure reports.
  let tail = seen.slice(-4000);
  (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      tail = (tail + value).slice(-4000);
    }
  })();
  return {
    port,
    recentLog: () => tail,
    async [Symbol.asyncDispose]() {
      child.kill();
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
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
    const turnUrls = [`turn:127.0.0.1:${coturn.port}?transport=udp`];
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
      const shown = await watcher.evaluate(() => {
        const viewer = document.querySelector("live-viewer")!;
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
