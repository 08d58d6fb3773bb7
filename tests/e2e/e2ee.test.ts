/**
 * End-to-end encryption (issue 25) with real browsers and a real Janus:
 * keyed viewers play an encrypted stream peer to peer, through the SFU and
 * across the switch, across a key rotation, switching simulcast layers;
 * viewers without the key (our element, a bare seed viewer) and with a
 * wrong one present no picture; what Janus forwards opens with the key
 * under a second SFrame reader (e2ee-pages.ts) and never as plaintext.
 * Needs root, like the fault tests.
 */
import assert from "node:assert/strict";
import type { FaultLab } from "./support/fault-lab.ts";
import {
  e2eeBroadcasterPage,
  e2eeViewerPage,
  janusSpyPage,
  newLabKey,
} from "./support/e2ee-pages.ts";
import { seedViewerPage } from "./support/lab-pages.ts";
import { labTest } from "./support/lab-test.ts";

/** The longest time between two frames `page` presented after `since`. */
function longestGap(lab: FaultLab, page: string, since: number): number {
  const times = lab.events(page).filter((e) =>
    e.kind === "frame" && e.t > since
  ).map((e) => e.t);
  let longest = 0;
  for (let i = 1; i < times.length; i++) {
    longest = Math.max(longest, times[i] - times[i - 1]);
  }
  return longest;
}

/** Frames `page` decoded, by its element's statistics (last report). */
function decoded(lab: FaultLab, page: string): number {
  return Number(
    lab.events(page).filter((e) => e.kind === "decoded").at(-1)?.value ?? 0,
  );
}

const k0 = newLabKey(0);
const wrong = newLabKey(0);

labTest(
  "e2ee: peer to peer, a keyed <live-viewer> plays; one without the key, a bare seed viewer and one with a wrong key present no picture",
  {
    browsers: ["chromium", "chromium", "chromium", "chromium", "chromium"],
    pages: [
      e2eeBroadcasterPage(k0),
      e2eeViewerPage(k0),
      e2eeViewerPage(null),
      seedViewerPage,
      e2eeViewerPage(wrong),
    ],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 20);
    await lab.openPage(2);
    await lab.openPage(3);
    await lab.openPage(4);
    // The keyless element is told why at once; the wrong key is found out
    // from the frames.
    await lab.until(
      "v2 refused as stream-encrypted",
      () =>
        lab.events("v2").some((e) =>
          e.kind === "error" && e.code === "stream-encrypted"
        ) || undefined,
    );
    await lab.until(
      "v4 cannot decrypt",
      () =>
        lab.events("v4").some((e) =>
          e.kind === "error" && e.code === "e2ee-decrypt-failed"
        ) || undefined,
    );
    // Meanwhile v1 went on playing: 20 more frames.
    await lab.untilFrames("v1", 20, Date.now());
    for (const page of ["v2", "v3", "v4"]) {
      assert.equal(lab.frames(page), 0, `${page} presented frames`);
      assert.equal(decoded(lab, page), 0, `${page} decoded frames`);
    }
    // The seed viewer was refused by the server too, never offered anything.
    assert.ok(
      lab.events("v3").some((e) =>
        e.kind === "error" && e.code === "stream-encrypted"
      ),
    );
    assert.deepEqual(lab.events("v1").filter((e) => e.kind === "error"), []);
  },
);

const r0 = newLabKey(0);
const r1 = newLabKey(1);
/** Janus's one room, once the stream is on it (for the spy page). */
let spyRoom = 0;

labTest(
  "e2ee: across the switch to Janus (Chromium and Firefox viewers), through a key rotation; Janus forwards SFrame ciphertext, never plaintext",
  {
    browsers: ["chromium", "chromium", "firefox", "chromium"],
    janus: true,
    janusApiOnHub: true,
    env: { SFU_AFTER_VIEWERS: "1", LOG_LEVEL: "debug" },
    pages: [
      e2eeBroadcasterPage(r0, r1, 12_000),
      e2eeViewerPage(r0, [r0, r1]),
      e2eeViewerPage(r0, [r0, r1]),
      (page, lab) =>
        janusSpyPage(() => lab.janusHubUrl, () => spyRoom, [r0, r1])(page),
    ],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 20);
    const beforeSwitch = Date.now();
    // The second viewer moves the stream to Janus, make before break.
    await lab.openPage(2);
    await lab.untilLogged("sfu-published");
    await lab.until(
      "both viewers moved to the SFU",
      () =>
        lab.serverLog.filter((l) => l.includes('"sfu-viewer-moved"'))
            .length >= 1 || undefined,
      60_000,
    );
    await lab.untilFrames("v2", 20);
    await lab.untilFrames("v1", 20, Date.now());
    const switchGap = longestGap(lab, "v1", beforeSwitch);
    console.log(`v1: longest gap across the switch ${switchGap} ms`);
    // v1 stayed live throughout.
    const states = lab.events("v1").filter((e) =>
      e.kind === "state" && !e.state?.startsWith("key asked")
    ).map((e) => e.state);
    assert.equal(states.indexOf("live"), states.length - 1, states.join());

    const rooms = await lab.janus!.rooms();
    assert.equal(rooms.length, 1);
    spyRoom = rooms[0];
    await lab.openPage(3);
    // The rotation (12 s after live) and 40 frames of epoch 1 at the spy.
    await lab.untilState("b", "rotated");
    const rotated = Date.now();
    const spied = (value: string) =>
      lab.events("v3").filter((e) => e.kind === "spy" && e.state === value)
        .length;
    await lab.until(
      () =>
        `the spy opening 40 video frames of epoch 1 (${
          spied("video sframe 1")
        }; epoch 0 ${spied("video sframe 0")}, unreadable ${
          spied("video unreadable")
        })`,
      () => spied("video sframe 1") >= 40 || undefined,
    );
    await lab.untilFrames("v1", 40, rotated);
    await lab.untilFrames("v2", 40, rotated);
    console.log(
      `rotation: longest gap v1 ${
        longestGap(lab, "v1", rotated - 1000)
      } ms, v2 ${longestGap(lab, "v2", rotated - 1000)} ms`,
    );
    // Simulcast still switches per viewer: v1 on a lossy link gets the
    // smaller layer (Janus reads its clear VP8 header) and decrypts it.
    const width = (name: string) =>
      lab.events(name).findLast((e) => e.kind === "width")?.value ?? 0;
    assert.equal(width("v1"), 640);
    await lab.network.loss(lab.host(1), 0.2);
    await lab.until(
      () =>
        `v1 on the smaller layer (${width("v1")}): ${
          lab.serverLog.filter((l) => l.includes("sfu-layer")).join(" ")
        }`,
      () => width("v1") === 320 || undefined,
    );
    await lab.untilFrames("v1", 20, Date.now());
    assert.equal(width("v2"), 640);
    // Every frame Janus forwarded was SFrame under one of the keys.
    assert.equal(spied("video unreadable"), 0);
    assert.equal(spied("audio unreadable"), 0);
    assert.ok(spied("audio sframe 1") > 0, "audio is encrypted too");
    for (const page of ["v1", "v2"]) {
      assert.deepEqual(
        lab.events(page).filter((e) => e.kind === "error"),
        [],
        page,
      );
    }
  },
);

const f0 = newLabKey(0);

labTest(
  "e2ee: the broadcaster's address changes (an ICE restart) and the server restarts (SIGTERM, resumed): the keyed viewer plays again on the same connection",
  {
    browsers: ["chromium", "chromium"],
    pages: [e2eeBroadcasterPage(f0), e2eeViewerPage(f0)],
  },
  async (lab) => {
    await lab.openPage(0);
    await lab.untilState("b", "live");
    await lab.openPage(1);
    await lab.untilFrames("v1", 20);
    await lab.network.changeAddress(lab.host(0));
    await lab.untilFrames("v1", 20, Date.now());
    await lab.stopSignaling("SIGTERM");
    await lab.startSignaling();
    await lab.untilFrames("v1", 40, Date.now());
    // Repaired in place: one connection each side, never cannot-decrypt.
    assert.equal(lab.events("v1").filter((e) => e.kind === "pc").length, 1);
    assert.equal(lab.events("b").filter((e) => e.kind === "pc").length, 1);
    assert.deepEqual(lab.events("v1").filter((e) => e.kind === "error"), []);
    assert.ok(!lab.events("v1").some((e) => e.state === "cannot-decrypt"));
  },
);
