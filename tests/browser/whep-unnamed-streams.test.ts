/**
 * `<live-viewer whep-url>` against a WHEP endpoint whose answer names no
 * stream (no `a=msid`: allowed, and some servers send none). Browsers put
 * such tracks in one default stream (JSEP, RFC 8829 §5.10): the viewer
 * shows both, its video first. The endpoint is a real RTCPeerConnection in
 * this page behind a stubbed `fetch`, sending a canvas's video and an
 * oscillator's audio.
 */
import { expect } from "@open-wc/testing";
import "../../components/live-viewer.ts";
import {
  eventually,
  frames,
  removeLiveElements,
  videoOf,
} from "./support/helpers.ts";

const ENDPOINT = "https://whep.invalid/whep/unnamed";

/** Serves WHEP at {@link ENDPOINT} from an in-page connection; undo with the result. */
function unnamedEndpoint(): { undo: () => void; removed: string[] } {
  const original = globalThis.fetch;
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 240;
  const context = canvas.getContext("2d")!;
  let hue = 0;
  const paint = setInterval(() => {
    context.fillStyle = `hsl(${(hue += 10) % 360} 80% 50%)`;
    context.fillRect(0, 0, canvas.width, canvas.height);
  }, 33);
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const sink = audio.createMediaStreamDestination();
  tone.connect(sink);
  tone.start();
  const tracks = [
    ...canvas.captureStream(30).getVideoTracks(),
    ...sink.stream.getAudioTracks(),
  ];
  const servers: RTCPeerConnection[] = [];
  const removed: string[] = [];
  globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (!url.startsWith(ENDPOINT)) return original(input, init);
    if (init?.method !== "POST") return new Response(null, { status: 204 });
    const server = new RTCPeerConnection();
    servers.push(server);
    for (const track of tracks) server.addTrack(track);
    await server.setRemoteDescription({
      type: "offer",
      sdp: String(init.body),
    });
    await server.setLocalDescription();
    await new Promise<void>((resolve) => {
      if (server.iceGatheringState === "complete") return resolve();
      server.addEventListener("icegatheringstatechange", () => {
        if (server.iceGatheringState === "complete") resolve();
      });
    });
    // No stream named: the tracks arrive without one.
    const sdp = server.localDescription!.sdp.split("\r\n")
      .filter((line) => {
        const named = /^a=msid:|^a=ssrc:\d+ msid:/.test(line);
        if (named) removed.push(line);
        return !named;
      })
      .join("\r\n");
    return new Response(sdp, {
      status: 201,
      headers: {
        "content-type": "application/sdp",
        location: `${ENDPOINT}/session`,
      },
    });
  };
  const undo = () => {
    globalThis.fetch = original;
    clearInterval(paint);
    void audio.close();
    for (const server of servers) server.close();
    for (const track of tracks) track.stop();
  };
  return { undo, removed };
}

describe("WHEP playback of an endpoint that names no stream", () => {
  afterEach(removeLiveElements);

  it("shows its video and its audio in one stream", async () => {
    const { undo, removed } = unnamedEndpoint();
    try {
      const viewer = document.createElement("live-viewer") as HTMLElement & {
        updateComplete: Promise<boolean>;
      };
      viewer.setAttribute("whep-url", ENDPOINT);
      viewer.setAttribute("ice-servers", "[]");
      document.body.append(viewer);
      await viewer.updateComplete;
      const video = videoOf(viewer);
      expect(await frames(video)).to.be.greaterThan(0);
      const kinds = () =>
        (video.srcObject as MediaStream).getTracks().map((t) => t.kind)
          .sort().join(",");
      await eventually(
        () => kinds() === "audio,video",
        () => `audio and video shown (are: ${kinds()})`,
      );
      // The answer really named none: an a=msid per m= section was taken out.
      expect(removed.filter((line) => line.startsWith("a=msid:")).length)
        .to.equal(2);
    } finally {
      undo();
    }
  });
});
