/**
 * A description the browser refuses never leaves an element hanging: the
 * viewer reports it, asks for a fresh connection after 1, 2 and 4 s, then
 * shows why it stopped; a refused takeover leaves the picture playing; the
 * broadcaster retries one refusing viewer the same way, then leaves it and
 * serves the others. The refusing side is a client of the seed protocol
 * (tests/browser/support/fake-peers.ts) sending colliding extension ids.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import { PICTURE_WAIT_MS } from "../../components/live-viewer.ts";
import {
  NEGOTIATION_RETRIES,
  NEGOTIATION_RETRY_MS,
} from "../../components/session/negotiation-retry.ts";
import { FakeBroadcaster, RefusingViewer } from "./support/fake-peers.ts";
import {
  addBroadcaster,
  addViewer,
  eventually,
  frames,
  newStreamId,
  nextEvent,
  serverLogs,
  startSignaling,
  stateOf,
  videoOf,
  within,
} from "./support/helpers.ts";

/** The refusal, then each retry's: 1 s, 2 s, 4 s. */
const ATTEMPTS = NEGOTIATION_RETRIES + 1;
const DELAYS = Array.from(
  { length: NEGOTIATION_RETRIES },
  (_, i) => NEGOTIATION_RETRY_MS * 2 ** i,
);

/** Every `live-error` `element` fires from now on. */
function errorsOf(element: HTMLElement): LiveErrorEvent[] {
  const errors: LiveErrorEvent[] = [];
  element.addEventListener("live-error", (e) => errors.push(e));
  return errors;
}

/** Every state `element` passes through from now on. */
function statesOf(element: HTMLElement & { state: string }): string[] {
  const states: string[] = [];
  element.addEventListener(
    "live-state-change",
    () => states.push(element.state),
  );
  return states;
}

/** Each gap between `times` is at least its delay, and shorter than the next one's. */
function expectBackoff(times: number[]): void {
  const gaps = times.slice(1).map((at, i) => Math.round(at - times[i]));
  expect(gaps.length, `gaps ${gaps}`).to.equal(DELAYS.length);
  gaps.forEach((gap, i) => {
    expect(gap, `gap ${i + 1} of ${gaps}`).to.be.at.least(DELAYS[i] - 15);
    expect(gap, `gap ${i + 1} of ${gaps}`).to.be.below(DELAYS[i] * 2);
  });
}

/** Resolves with the server's `client-negotiation-failed` lines once there are `count`. */
async function reportsAt(port: number, count: number) {
  let reports: Record<string, unknown>[] = [];
  // The server's log has no event the page could wait on: ask until then.
  await within(
    (async () => {
      while (
        (reports = await serverLogs(port, "client-negotiation-failed"))
          .length < count
      ) {
        await new Promise(requestAnimationFrame);
      }
    })(),
    () => `${count} client-negotiation-failed lines (have ${reports.length})`,
  );
  return reports;
}

describe("refused descriptions", () => {
  const closing: { close(): void }[] = [];
  afterEach(() => {
    for (
      const element of document.querySelectorAll(
        "live-viewer, live-broadcaster",
      )
    ) element.remove();
    for (const client of closing.splice(0)) client.close();
  });

  it("a viewer refusing every offer reports each, asks again after 1, 2 and 4 s, then says this browser cannot play it; trying again plays a good one", async () => {
    const { url, port } = await startSignaling();
    const streamId = newStreamId();
    const fake = new FakeBroadcaster(url, streamId, () => "refused");
    closing.push(fake);
    await fake.whenReceived("broadcaster-accepted");
    const viewer = addViewer(url, streamId);
    const errors = errorsOf(viewer);
    const states = statesOf(viewer);

    await stateOf(viewer, "error");
    // Its leave follows its last report on the same socket: the server
    // has handled every report once the broadcaster hears of it.
    await fake.left();
    expect(fake.joins.length).to.equal(ATTEMPTS);
    expectBackoff(fake.joins.map((join) => join.at));
    expect(errors.map((e) => e.code)).to.deep.equal(
      Array(ATTEMPTS).fill("negotiation-failed"),
    );
    // Both browsers refuse it as they apply it.
    expect(errors[0].message).to.contain("set-remote-offer");
    expect(states).to.not.include("live");
    await viewer.updateComplete;
    expect(
      viewer.shadowRoot!.querySelector("[part=status]")!.textContent,
    ).to.equal("This browser cannot play this stream.");
    const viewerId = fake.joins[0].viewerId;
    const reports = await reportsAt(port, ATTEMPTS);
    expect(
      reports.map((r) => [r.clientId, r.role, r.streamId, r.stage]),
    ).to.deep.equal(
      Array(ATTEMPTS).fill([viewerId, "viewer", streamId, "set-remote-offer"]),
    );
    expect(String(reports[0].reason)).to.match(/^\w+Error: /);

    // The page tries again (the element back on the page, after its
    // removal took effect: not a move): a good offer plays.
    fake.plan = () => "good";
    viewer.remove();
    await Promise.resolve();
    document.body.append(viewer);
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
  });

  /** A broadcaster that never offers on a viewer's first join, and a viewer. */
  async function firstJoinLost() {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    const fake = new FakeBroadcaster(
      url,
      streamId,
      (join) => join === 1 ? "lost" : "good",
    );
    closing.push(fake);
    await fake.whenReceived("broadcaster-accepted");
    return { fake, viewer: addViewer(url, streamId) };
  }

  it("a viewer whose offer never comes (lost between nodes) asks again after PICTURE_WAIT_MS and plays", async () => {
    const { fake, viewer } = await firstJoinLost();
    await stateOf(viewer, "negotiating");
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    const [first, second] = fake.joins.map((join) => join.at);
    expect(fake.joins.length).to.equal(2);
    expect(second - first).to.be.at.least(PICTURE_WAIT_MS - 15);
    expect(second - first).to.be.below(PICTURE_WAIT_MS + 2_000);
  });

  it("a viewer whose offer's candidates and answer are lost asks again PICTURE_WAIT_MS after that offer, not after its join, and plays", async () => {
    const { fake, viewer } = await firstJoinLost();
    await fake.joined(1);
    // The offer comes late, without candidates, and its answer finds
    // nothing: the wait for a picture counts from the offer.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await fake.offer(fake.joins[0].viewerId, "unanswered");
    const offeredAt = performance.now();
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    expect(fake.joins.length).to.equal(2);
    expect(fake.joins[1].at - offeredAt).to.be.at.least(PICTURE_WAIT_MS - 15);
  });

  it("a refused offer for the connection waiting to take over is dropped and reported; the picture plays on", async () => {
    const { url, port } = await startSignaling();
    const streamId = newStreamId();
    const fake = new FakeBroadcaster(url, streamId, () => "good");
    closing.push(fake);
    await fake.whenReceived("broadcaster-accepted");
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "live");
    await frames(videoOf(viewer));
    const track = (videoOf(viewer).srcObject as MediaStream)
      .getVideoTracks()[0];
    const states = statesOf(viewer);

    const error = nextEvent<LiveErrorEvent>(viewer, "live-error");
    await fake.offer(fake.joins[0].viewerId, "refused");
    expect((await error).code).to.equal("negotiation-failed");
    const [report] = await reportsAt(port, 1);
    expect([report.role, report.stage]).to.deep.equal([
      "viewer",
      "set-remote-offer",
    ]);
    // The connection it had plays on: same track, frames, no state change.
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    // (Ids: a failure's report cannot carry a track in Firefox.)
    expect(
      (videoOf(viewer).srcObject as MediaStream).getVideoTracks()[0]?.id,
    ).to.equal(track.id);
    expect(states).to.deep.equal([]);
    expect(fake.joins.length).to.equal(1);
  });

  it("a broadcaster whose answers from one viewer are refused retries it after 1, 2 and 4 s, then leaves it and stays live for the others", async () => {
    const { url, port } = await startSignaling();
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId);
    await broadcaster.start();
    await stateOf(broadcaster, "live");
    const errors = errorsOf(broadcaster);
    const states = statesOf(broadcaster);
    const refusing = new RefusingViewer(url, streamId);
    closing.push(refusing);
    const [{ viewerId }] = await refusing.whenReceived("join-accepted");

    await refusing.offered(ATTEMPTS);
    // Given up: its connection is closed and gone from the list.
    await eventually(
      () => errors.length === ATTEMPTS && broadcaster.viewers.length === 0,
      () =>
        `${ATTEMPTS} live-errors (have ${errors.length}) and no connection (${
          JSON.stringify(broadcaster.viewers)
        })`,
    );
    expectBackoff(refusing.offers);
    expect(errors.map((e) => e.code)).to.deep.equal(
      Array(ATTEMPTS).fill("negotiation-failed"),
    );
    expect(errors[0].message).to.contain(viewerId);
    expect(states).to.deep.equal([]);
    expect(broadcaster.state).to.equal("live");

    // Another viewer plays; its offer went out on the broadcaster's socket
    // after every report, so the server has handled them all by then.
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    const reports = await reportsAt(port, ATTEMPTS);
    expect(
      reports.map((r) => [r.role, r.streamId, r.viewerId, r.stage]),
    ).to.deep.equal(
      Array(ATTEMPTS).fill([
        "broadcaster",
        streamId,
        viewerId,
        "set-remote-answer",
      ]),
    );
    // Nothing more was offered to the viewer it gave up on.
    expect(refusing.offers.length).to.equal(ATTEMPTS);
    expect(broadcaster.viewers.map((v) => v.viewerId)).to.not.include(
      viewerId,
    );
  });
});
