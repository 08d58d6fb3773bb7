/**
 * `<live-viewer whep-url>`: plays a stream from any WHEP endpoint (ours, a
 * media server's) without the signaling server. One RTCPeerConnection,
 * receive-only; its offer, with the candidates gathered (at most
 * {@link GATHER_MS}), is POSTed; the answer applied; DELETE when done. Not
 * live yet (404) or busy (429, 503, network): tried again. A failed
 * connection is replaced by a new session (our endpoint refuses ICE
 * restarts by PATCH, so a fresh POST is the one path every server takes).
 */
export interface WhepPlayerOptions {
  url: string;
  token(): string | null;
  rtcConfiguration(): RTCConfiguration;
  onStream(stream: MediaStream): void;
  onConnectionState(state: RTCPeerConnectionState): void;
  /** `connecting` (asking), `waiting` (not live yet), `open` (answered). */
  onStatus(status: "connecting" | "waiting" | "open"): void;
  /** Refused for good (HTTP 401/403/4xx): the status code. */
  onRefused(status: number, message: string): void;
}

/** The longest wait for candidates before the offer goes without the rest. */
const GATHER_MS = 1_000;
/** How long before asking again (not live, busy, unreachable, failed). */
const RETRY_MS = 3_000;

export class WhepPlayer {
  #options: WhepPlayerOptions;
  #pc: RTCPeerConnection | undefined;
  #resource: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: WhepPlayerOptions) {
    this.#options = options;
  }

  get connection(): RTCPeerConnection | undefined {
    return this.#pc;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    this.#end();
    const options = this.#options;
    options.onStatus("connecting");
    const pc = new RTCPeerConnection(options.rtcConfiguration());
    this.#pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = ({ streams, track, receiver }) => {
      const live = receiver as { jitterBufferTarget?: number | null };
      if ("jitterBufferTarget" in live) live.jitterBufferTarget = 0;
      if (this.#pc === pc) {
        options.onStream(streams[0] ?? new MediaStream([track]));
      }
    };
    pc.onconnectionstatechange = () => {
      if (this.#pc !== pc) return;
      options.onConnectionState(pc.connectionState);
      if (pc.connectionState === "failed") this.#again();
    };
    await pc.setLocalDescription();
    await new Promise<void>((done) => {
      setTimeout(done, GATHER_MS);
      pc.onicegatheringstatechange = () =>
        pc.iceGatheringState === "complete" && done();
    });
    if (this.#pc !== pc) return;
    const token = options.token();
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/sdp",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: pc.localDescription!.sdp,
      });
    } catch {
      return this.#again();
    }
    if (this.#pc !== pc) return;
    if (response.status === 201) {
      const location = response.headers.get("location");
      this.#resource = location
        ? new URL(location, options.url).href
        : undefined;
      await pc.setRemoteDescription({
        type: "answer",
        sdp: await response.text(),
      });
      return options.onStatus("open");
    }
    const message = await response.text().catch(() => "");
    if (response.status === 404) {
      options.onStatus("waiting");
      return this.#again();
    }
    if (response.status === 429 || response.status >= 500) {
      return this.#again();
    }
    this.#end();
    options.onRefused(response.status, message);
  }

  /** Stops playing and ends the session on the server. */
  stop(): void {
    this.#stopped = true;
    this.#end();
  }

  #again(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.start(), RETRY_MS);
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#pc?.close();
    this.#pc = undefined;
    if (this.#resource) {
      // keepalive: the DELETE still goes when the page is closing.
      fetch(this.#resource, { method: "DELETE", keepalive: true })
        .catch(() => {});
      this.#resource = undefined;
    }
  }
}
