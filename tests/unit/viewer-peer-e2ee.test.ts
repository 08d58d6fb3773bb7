/**
 * A keyed viewer joins before its encryption chunk is loaded
 * (stream-session.ts): its offers wait for it (viewer-peer.ts), so no
 * connection is made without transforms, and none at all once a key it
 * cannot use closed the session.
 */
import assert from "node:assert/strict";
import type { ClientMessage } from "../../protocol/messages.ts";
import { ViewerPeer } from "../../components/session/viewer-peer.ts";
import type { PeerLink } from "../../components/session/stream-session.ts";

const OFFER = {
  type: "offer" as const,
  sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
};

/** Enough of an RTCPeerConnection for the viewer's answer. */
class FakeConnection extends EventTarget {
  connectionState: RTCPeerConnectionState = "new";
  signalingState: RTCSignalingState = "stable";
  localDescription: { sdp: string } | null = null;
  setRemoteDescription(): Promise<void> {
    this.signalingState = "have-remote-offer";
    return Promise.resolve();
  }
  createAnswer(): Promise<{ type: "answer"; sdp: string }> {
    return Promise.resolve({ type: "answer", sdp: "answer" });
  }
  setLocalDescription(answer: { sdp: string }): Promise<void> {
    this.localDescription = answer;
    this.signalingState = "stable";
    return Promise.resolve();
  }
  addIceCandidate(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.signalingState = "closed";
  }
}

/** A session whose encryption is loading until `loaded()`. */
function keyedLink() {
  let loaded: () => void = () => {};
  const ready = new Promise<void>((resolve) => loaded = resolve);
  const made: FakeConnection[] = [];
  const sent: ClientMessage[] = [];
  let answered: () => void = () => {};
  const answer = new Promise<void>((resolve) => answered = resolve);
  const link = {
    streamId: "order-1",
    clientId: "v",
    connected: true,
    e2ee: ready,
    send(message: ClientMessage) {
      sent.push(message);
      if (message.type === "webrtc-answer") answered();
      return true;
    },
    newConnection() {
      const pc = new FakeConnection();
      made.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    turnRefused() {},
    refused() {},
  } satisfies PeerLink;
  return { link, loaded, made, sent, answer };
}

function viewer(link: PeerLink): ViewerPeer {
  return new ViewerPeer(link, {
    onStream() {},
    onConnectionState() {},
    onRefused() {},
  });
}

/** Lets settled promises run (a fake's: no event says they did). */
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("an offer waits for the viewer's encryption: no connection before it is loaded, answered after", async () => {
  const { link, loaded, made, answer } = keyedLink();
  const peer = viewer(link);
  peer.handleOffer(OFFER);
  peer.handleCandidate({
    candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host",
  });
  await turn();
  assert.equal(made.length, 0);
  loaded();
  await answer;
  assert.equal(made.length, 1);
  peer.close();
});

Deno.test("a key it cannot use closed the session while it loaded: no connection is made", async () => {
  const { link, loaded, made, sent } = keyedLink();
  const peer = viewer(link);
  peer.handleOffer(OFFER);
  await turn();
  // The session reported the refusal and closed (stream-session.ts).
  (link as { connected: boolean }).connected = false;
  loaded();
  await turn();
  assert.equal(made.length, 0);
  assert.deepEqual(sent, []);
  peer.close();
});
