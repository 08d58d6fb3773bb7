/**
 * Every network (issue 23): a broadcaster and viewers each behind a
 * firewall that drops every UDP packet and lets TCP out only to the site,
 * the signaling server and coturn (firewall.ts: iptables inside each
 * browser's own namespace). They play through coturn in the hub over TCP
 * (`turn:…?transport=tcp`) and over TLS (`turns:…?transport=tcp`, coturn's
 * certificate from a CA made for the run), peer to peer and through Janus
 * (Janus needs no TURN: the browsers' relays reach its host candidates).
 * The elements are embedded as a site would: no `ice-servers`, no
 * `ice-transport-policy`; the server hands out the TURN URL and
 * credentials (TURN_URLS, TURN_SECRET).
 *
 * Checked: real frames presented in every viewer; every connection's
 * selected pair (getStats) a relay over the transport asked for; each
 * host's firewall dropped the UDP its browser tried (host candidates, and
 * coturn relaying the other side's checks to them) and let none out. TLS
 * is trusted both ways test-ca.ts describes, and an untrusted certificate
 * gets no relay at all: the browsers do check it.
 */
import assert from "node:assert/strict";
import type { TurnTransport } from "./support/coturn-process.ts";
import {
  type BrowserName,
  type FaultLab,
  LAB_TURN_PORT,
  LAB_TURNS_PORT,
} from "./support/fault-lab.ts";
import { labTest } from "./support/lab-test.ts";
import type { BrowserTrust } from "./support/test-ca.ts";
import {
  type SelectedPair,
  turnBroadcasterPage,
  turnViewerPage,
} from "./support/turn-pages.ts";

/** Broadcaster, then a viewer in each browser. */
const BROWSERS: BrowserName[] = ["chromium", "chromium", "firefox"];
const PAGES = [turnBroadcasterPage, turnViewerPage, turnViewerPage];
const EVERY_HOST = [0, 1, 2];

/** The selected pairs page `name` reported, the latest per connection. */
function pairs(lab: FaultLab, name: string): SelectedPair[] {
  const latest = new Map<number, SelectedPair>();
  for (const event of lab.events(name)) {
    if (event.kind !== "pair") continue;
    const pair = JSON.parse(event.state!) as SelectedPair;
    latest.set(pair.pc, pair);
  }
  return [...latest.values()];
}

/** For failures: each page's pairs and last events, coturn's last words. */
function context(lab: FaultLab): string {
  return ["b", ...lab.viewerNames()].map((name) =>
    `${name}: pairs ${JSON.stringify(pairs(lab, name))}, events ${
      JSON.stringify(
        lab.events(name).filter((e) => e.kind !== "frame" && e.kind !== "pair")
          .slice(-10),
      )
    }`
  ).join("\n") + `\ncoturn:\n${lab.coturn?.recentLog().slice(-3000)}`;
}

async function expectRelayedOver(
  lab: FaultLab,
  transport: Exclude<TurnTransport, "udp">,
  sfu: boolean,
): Promise<void> {
  const viewers = lab.viewerNames();
  await lab.openPages();
  try {
    await lab.untilPlaying(viewers);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${context(lab)}`);
  }
  // The broadcaster's connections (one per viewer, or its one to Janus)
  // and each viewer's.
  const connections: Record<string, number> = {
    b: sfu ? 1 : viewers.length,
    ...Object.fromEntries(viewers.map((name) => [name, 1])),
  };
  await lab.until(
    () => `a selected pair on every connection:\n${context(lab)}`,
    () =>
      Object.entries(connections).every(([name, count]) =>
        pairs(lab, name).length >= count
      ) || undefined,
  );
  for (const name of Object.keys(connections)) {
    for (const pair of pairs(lab, name)) {
      const what = `${name}: ${JSON.stringify(pair)}`;
      assert.equal(pair.local, "relay", what);
      assert.equal(pair.relayProtocol, transport, what);
      // Peer to peer: relay to relay. Through the SFU: to Janus's own
      // address in the hub.
      assert.equal(pair.remote, sfu ? "host" : "relay", what);
      assert.equal(pair.remoteAddress, lab.network.hub.address, what);
    }
  }
  if (sfu) assert.equal(lab.logged("sfu-published"), 1);
  // Real frames go on in every viewer now the pairs are known.
  await lab.untilPlaying(viewers, Date.now());
  const turnPort = transport === "tls" ? LAB_TURNS_PORT : LAB_TURN_PORT;
  for (const index of EVERY_HOST) {
    const counters = await lab.firewallCounters(index);
    const what = `host ${index} (${BROWSERS[index]}): ${
      JSON.stringify(counters)
    }`;
    console.log(what);
    // Its browser tried UDP, and none of it got out.
    assert.ok(counters.udpDroppedOut > 0, what);
    assert.equal(counters.udpLeft, 0, what);
    assert.ok(counters.tcpOut[turnPort] > 0, what);
  }
}

const TRUST: Record<Exclude<TurnTransport, "udp">, BrowserTrust[]> = {
  tcp: ["ca"],
  tls: ["ca", "certificate"],
};

for (const transport of ["tcp", "tls"] as const) {
  for (const sfu of [false, true]) {
    // TLS: the CA trusted peer to peer, the certificate alone via the SFU.
    const turnTrust = TRUST[transport][sfu ? TRUST[transport].length - 1 : 0];
    labTest(
      `turn over ${transport}${
        transport === "tls" ? ` (${turnTrust} trusted)` : ""
      }: behind firewalls that drop all UDP, Chromium and Firefox viewers play a Chromium broadcaster ${
        sfu ? "through Janus" : "peer to peer"
      }, relayed by coturn`,
      {
        browsers: BROWSERS,
        pages: PAGES,
        turn: [transport],
        turnTrust,
        firewalled: EVERY_HOST,
        ...(sfu ? { janus: true, env: { SFU_AFTER_VIEWERS: "0" } } : {}),
      },
      (lab) => expectRelayedOver(lab, transport, sfu),
    );
  }
}

labTest(
  "turn over tls: a certificate the browsers do not trust gets no relay: TLS connections to coturn, no allocation, no frames",
  {
    browsers: BROWSERS,
    pages: PAGES,
    turn: ["tls"],
    turnTrust: false,
    firewalled: EVERY_HOST,
  },
  async (lab) => {
    await lab.openPages();
    // Each viewer's connection fails (Firefox's after 5 s, Chromium's 15 s).
    await lab.until(
      () => `ICE to fail in every viewer:\n${context(lab)}`,
      () =>
        lab.viewerNames().every((name) =>
          lab.events(name).some((e) => e.kind === "ice" && e.state === "failed")
        ) || undefined,
      45_000,
    );
    for (const name of ["b", ...lab.viewerNames()]) {
      assert.deepEqual(pairs(lab, name), [], name);
    }
    for (const name of lab.viewerNames()) assert.equal(lab.frames(name), 0);
    const log = lab.coturn!.log;
    // Every browser reached coturn's TLS port and hung up in the handshake.
    for (const index of EVERY_HOST) {
      const from = `tls connected to: ${lab.host(index).address}:`;
      assert.ok(log.some((line) => line.includes(from)), from);
    }
    assert.equal(log.filter((line) => line.includes("ALLOCATE")).length, 0);
  },
);
