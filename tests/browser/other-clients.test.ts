/**
 * `<live-viewer>` watching a broadcaster of another make: a client of the
 * seed protocol (tests/browser/support/fake-peers.ts) doing what the
 * protocol allows and ours does not: tracks sent in no stream
 * (`addTrack(track)`: `a=msid:- <track>`), candidates sent before the offer.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-viewer.ts";
import { FakeBroadcaster } from "./support/fake-peers.ts";
import {
  addViewer,
  eventually,
  frames,
  newStreamId,
  removeLiveElements,
  startSignaling,
  stateOf,
  videoOf,
} from "./support/helpers.ts";

describe("a broadcaster of another make", () => {
  let fake: FakeBroadcaster | undefined;
  afterEach(() => {
    removeLiveElements();
    fake?.close();
  });

  it("sending its tracks in no stream: the viewer shows its video and its audio together", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    fake = new FakeBroadcaster(url, streamId, () => "good");
    fake.streamless = true;
    await fake.whenReceived("broadcaster-accepted");
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "live");
    const video = videoOf(viewer);
    expect(await frames(video)).to.be.greaterThan(0);
    const kinds = () =>
      (video.srcObject as MediaStream).getTracks().map((t) => t.kind).sort()
        .join(",");
    await eventually(
      () => kinds() === "audio,video",
      () => `audio and video shown (are: ${kinds()})`,
    );
    // Really in none: each track's a=msid names "-" for its stream.
    const said = fake.offered[0].match(/^a=msid:.*$/gm) ?? [];
    expect(said.length).to.equal(2);
    for (const line of said) expect(line).to.match(/^a=msid:- /);
  });

  it("sending its candidates before its offer (and ignoring the viewer's): the viewer connects with them", async () => {
    const { url } = await startSignaling();
    const streamId = newStreamId();
    fake = new FakeBroadcaster(url, streamId, () => "good");
    fake.candidatesFirst = true;
    await fake.whenReceived("broadcaster-accepted");
    const viewer = addViewer(url, streamId);
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    expect(fake.offered[0]).to.not.match(/^a=candidate:/m);
  });
});
