/**
 * A WHEP endpoint in the test page: a real RTCPeerConnection behind a
 * stubbed `fetch`, answering every POST under {@link WHEP_ORIGIN} (or
 * {@link WHEP_PATH}) with a canvas's video and an oscillator's audio.
 */

/** Where the stub answers (any path under it is an endpoint). */
export const WHEP_ORIGIN = "https://whep.invalid";
/** Also answered: paths under this one on the page's own origin. */
export const WHEP_PATH = "/whep-stub/";

/**
 * How the answer's tracks are grouped: in one named stream; one stream
 * each; in none, said so (`a=msid:- <track>`, as `addTrack` without a
 * stream writes it); or in none, unsaid (the `a=msid` lines taken out,
 * listed in `removed`).
 */
export type WhepStreams = "one" | "each" | "none" | "unnamed";

export interface InPageWhepOptions {
  streams?: WhepStreams;
  /** The POST's status (the RFC's 201 by default). */
  status?: number;
  /** Changes each answer before it goes out (one the browser refuses, say). */
  answer?: (sdp: string) => string;
}

/**
 * Serves WHEP under {@link WHEP_ORIGIN} and {@link WHEP_PATH} until
 * `undo()`; each session's `Location` is relative (the RFC allows it).
 * Every request is kept (`requests`: method and absolute URL).
 */
export function inPageWhep(
  { streams = "one", status = 201, answer = (sdp) => sdp }: InPageWhepOptions =
    {},
): {
  undo: () => void;
  removed: string[];
  answers: string[];
  requests: string[];
} {
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
  const answers: string[] = [];
  const requests: string[] = [];
  globalThis.fetch = async (input, init) => {
    const url = new URL(
      String(input instanceof Request ? input.url : input),
      location.href,
    );
    if (
      url.origin !== WHEP_ORIGIN &&
      !(url.origin === location.origin && url.pathname.startsWith(WHEP_PATH))
    ) return original(input, init);
    requests.push(`${init?.method} ${url.href}`);
    if (init?.method !== "POST") return new Response(null, { status: 204 });
    const server = new RTCPeerConnection();
    servers.push(server);
    const stream = new MediaStream(tracks);
    for (const track of tracks) {
      if (streams === "one") server.addTrack(track, stream);
      else if (streams === "each") {
        server.addTrack(track, new MediaStream([track]));
      } else server.addTrack(track);
    }
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
    // Unnamed: the tracks arrive in no stream.
    const sdp = server.localDescription!.sdp.split("\r\n")
      .filter((line) => {
        const named = streams === "unnamed" &&
          /^a=msid:|^a=ssrc:\d+ msid:/.test(line);
        if (named) removed.push(line);
        return !named;
      })
      .join("\r\n");
    answers.push(sdp);
    return new Response(answer(sdp), {
      status,
      headers: {
        "content-type": "application/sdp",
        location: `${url.pathname}/session`,
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
  return { undo, removed, answers, requests };
}
