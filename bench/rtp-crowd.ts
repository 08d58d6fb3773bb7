/**
 * A crowd that receives without decoding, for bench/sfu-capacity.ts: N
 * receive-only subscribers of one stream, each on its own socket with the
 * seed protocol, answering the SFU's offer with a werift peer connection
 * (WebRTC in TypeScript: ICE, DTLS, SRTP, and no codec) and counting the
 * video it receives. A Chromium crowd decodes every track it receives,
 * shown or not, and on this machine's 2 cores that decoding is what gives
 * way first, not Janus: this crowd measures Janus and the path alone.
 *
 * bench/sfu-capacity.ts builds it with esbuild and runs it under Node
 * (werift under Deno costs 3x the CPU); by hand, in the lab's network:
 *
 *   deno run -A bench/rtp-crowd.ts --url ws://… --stream S --count 150
 *
 * Prints one JSON line a second on stdout, per subscriber since it
 * started: `{"t": <epoch ms>, "frames": {"v1": n, …}}`, frames being the
 * video codec's RTP packets with the marker bit (VP8: a frame's last;
 * retransmissions, on their own payload type, not counted).
 * Errors from the server go to stderr as JSON lines.
 */
import { argv } from "node:process";
import { parseArgs } from "node:util";
import { RTCDtlsTransport, RTCPeerConnection } from "werift";
import WebSocket from "ws";

const { values } = parseArgs({
  args: argv.slice(2),
  options: {
    url: { type: "string" },
    stream: { type: "string" },
    count: { type: "string", default: "1" },
  },
});
const url = values.url!;
const streamId = values.stream!;
const count = Number(values.count);

// Counted as the packets arrive, neither decrypted nor handed to werift's
// RTP stack (a third of this process's CPU, measured at 10 subscribers):
// SRTP leaves the RTP header (marker bit, payload type) in the clear, which
// is all the counting reads. `startSrtp` is where werift would subscribe
// its decrypting handler once DTLS is up.
const counted = new WeakMap<object, (packet: Uint8Array) => void>();
// deno-lint-ignore no-explicit-any
const transport = RTCDtlsTransport.prototype as any;
transport.startSrtp = function (this: typeof transport) {
  if (this.srtpStarted) return;
  this.srtpStarted = true;
  this.iceTransport.connection.onData.subscribe((packet: Uint8Array) =>
    counted.get(this)?.(packet)
  );
};

/** The video codec's payload type in an answer (its m=video line's first). */
function videoPayloadType(sdp: string): number {
  const line = sdp.split(/\r?\n/).find((l) => l.startsWith("m=video "));
  if (!line) throw new Error("No video in the SFU's offer");
  return Number(line.split(" ")[3]);
}

/** What this crowd reads of the server's messages. */
interface ServerMessage {
  type: string;
  offer?: { type: "offer"; sdp: string };
  candidate?: { candidate: string; sdpMid?: string; sdpMLineIndex?: number };
  code?: string;
}

const frames: Record<string, number> = {};

function subscribe(who: string): void {
  frames[who] = 0;
  const ws = new WebSocket(url);
  const send = (message: Record<string, unknown>) =>
    ws.send(JSON.stringify({ streamId, ...message }));
  let pc: RTCPeerConnection | undefined;
  ws.on(
    "error",
    (error) => console.error(JSON.stringify({ who, error: String(error) })),
  );
  // One message at a time: a candidate waits for the offer before it.
  let queue = Promise.resolve();
  ws.on("message", (data) => {
    queue = queue.then(() => handle(JSON.parse(String(data)))).catch((error) =>
      console.error(JSON.stringify({ who, error: String(error) }))
    );
  });
  const handle = async (message: ServerMessage) => {
    if (message.type === "welcome") send({ type: "join-stream" });
    else if (message.type === "webrtc-offer") {
      await pc?.close();
      // No STUN server (werift's default is a public one): Janus's host
      // candidates are on the test network.
      const peer = pc = new RTCPeerConnection({ iceServers: [] });
      peer.onIceCandidate.subscribe((candidate) => {
        if (candidate) {
          send({ type: "webrtc-ice-candidate", candidate: candidate.toJSON() });
        }
      });
      await peer.setRemoteDescription(message.offer!);
      const answer = await peer.createAnswer();
      await peer.setLocalDescription(answer);
      const video = videoPayloadType(answer.sdp);
      const count = (packet: Uint8Array) => {
        // RTP version 2; RTCP's second byte is 192-223 (RFC 5761).
        if (packet.length < 12 || packet[0] >> 6 !== 2) return;
        if (packet[1] >= 192 && packet[1] <= 223) return;
        if ((packet[1] & 0x7f) !== video) return;
        if (packet[1] & 0x80) frames[who]++;
      };
      for (const dtls of peer.dtlsTransports) counted.set(dtls, count);
      send({
        type: "webrtc-answer",
        answer: { type: "answer", sdp: peer.localDescription!.sdp },
      });
    } else if (message.type === "webrtc-ice-candidate") {
      await pc?.addIceCandidate(message.candidate!);
    } else if (message.type === "error") {
      console.error(JSON.stringify({ who, code: message.code }));
    }
  };
}

for (let i = 1; i <= count; i++) subscribe(`v${i}`);
setInterval(() => {
  console.log(JSON.stringify({ t: Date.now(), frames }));
}, 1000);
