/**
 * The elements' WHIP and WHEP client: one RTCPeerConnection signaled over
 * HTTP to any standard endpoint, no signaling server. The offer, with the
 * candidates gathered in at most {@link GATHER_MS}, is POSTed; the rest are
 * trickled by PATCH. A connection that drops is repaired by an ICE restart
 * by PATCH (RFC 9725 §4.4: `If-Match: "*"`, the server's new credentials in
 * the 200); an endpoint that cannot restart gets a new session (a fresh
 * POST, the one path every server takes). DELETE when done.
 *
 * A WHEP player (`serverOffer`) offers first and, refused with a 400 (an
 * offer the endpoint cannot serve: ours for a browser that numbers its
 * codecs otherwise than Janus, as Firefox does), asks for the server's
 * offer instead (a POST without one) and sends its answer by PATCH, as
 * Eyevinn's webrtc-player does; it keeps asking that way. Offering first
 * keeps every endpoint that takes only client offers working.
 *
 * Loaded only by elements given `whip-url` or `whep-url` (a chunk of its
 * own), so it imports nothing the elements' bundles hold (the element's
 * error table comes in as an argument, types only from error-policy.ts).
 */
import type { ErrorPolicy, RuledCode, Ruling } from "./error-policy.ts";
import {
  fragmentOf,
  iceCredentials,
  parseFragment,
  TRICKLE_ICE_SDPFRAG,
  withIce,
} from "../../protocol/sdp-fragment.ts";

export type HttpMediaStatus =
  /** Asking the endpoint. */
  | { kind: "connecting" }
  /** Answered (201): media is on its way. */
  | { kind: "open" }
  /**
   * Not now (0: unreachable, 404, 409, 429, 5xx; or a code the error
   * policy retries): asked again later. `code`: the problem body's.
   */
  | { kind: "retrying"; status: number; code?: string }
  /**
   * Refused for good (400, 401, 403, 415, 422…; 409 on a session: taken
   * over by a newer one): not asked again. `code`: the problem body's.
   */
  | { kind: "refused"; status: number; code?: string; message: string };

/** What a refusal's body says (RFC 9457 problem details, or its text). */
export interface RefusalBody {
  /** Our error code (`error`), when the body has one. */
  code?: string;
  message: string;
}

export interface HttpMediaSessionOptions {
  url: string;
  token(): string | null;
  /** A new connection (ICE servers, policy, end-to-end encryption). */
  newConnection(): RTCPeerConnection;
  /** Adds the transceivers (and handlers) to a new connection. */
  setup(pc: RTCPeerConnection): void;
  onConnectionState(state: RTCPeerConnectionState): void;
  onStatus(status: HttpMediaStatus): void;
  /**
   * Whether a refusal with `status` and the body's `code` is worth asking
   * again (default, by the status: 404, 409, 429, 5xx).
   */
  retryable?(status: number, code: string | undefined): boolean;
  /** A 400 to its offer: ask for the server's (WHEP). */
  serverOffer?: boolean;
  /**
   * path-silence.ts's `fellSilent`, from the host (this chunk imports
   * nothing the elements' bundles hold): with it, a connected path that
   * hears nothing back for {@link SILENT_PATH_MS} while sending (our address
   * changed) gets an ICE restart at once, seconds before ICE would say
   * `disconnected`.
   */
  fellSilent?(
    holder: { path?: unknown },
    received: number,
    sent: number,
    now: number,
    silentMs: number,
  ): boolean;
  /**
   * receive-silence.ts's `stoppedReceiving` (the WHEP player's), for
   * a player (it sends next to nothing): media that stops arriving for
   * {@link SILENT_PATH_MS} on a connected path gets an ICE restart at once.
   */
  stoppedReceiving?(
    holder: { media?: unknown },
    received: number,
    now: number,
    silentMs: number,
  ): boolean;
}

/** The longest wait for candidates before the offer goes without the rest. */
const GATHER_MS = 1_000;
/** How long before asking again (not live, busy, unreachable). */
const RETRY_MS = 3_000;
/** The longest Retry-After honoured before a POST or ICE restart is asked again. */
const MAX_RETRY_AFTER_MS = 30_000;
/** A disconnected connection gets this long to come back by itself. */
const DISCONNECTED_GRACE_MS = 2_000;
/**
 * Nothing received this long while sending (a player: no media this long):
 * the path is gone. Janus sends a publisher congestion feedback every
 * 200 ms, a player gets 50 audio packets a second; an endpoint that says
 * less costs at worst a needless restart, which does not interrupt media.
 */
export const SILENT_PATH_MS = 1_000;
/** How often a connected path's packet counts are looked at. */
const SILENCE_CHECK_MS = 250;

const defaultRetryable = (status: number) =>
  status === 404 || status === 409 || status === 429 || status >= 500;

export class HttpMediaSession {
  #options: HttpMediaSessionOptions;
  #pc: RTCPeerConnection | undefined;
  #resource: string | undefined;
  #etag: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #restarting = false;
  #stopped = true;
  /** Candidates found after the POST, waiting for the session's URL. */
  #late: RTCIceCandidate[] = [];
  /** The endpoint refused our offer: it offers, we answer (WHEP). */
  #answering = false;
  /** The connection's packet counts (path-silence.ts). */
  #path: { path?: unknown; media?: unknown } = {};
  #silenceTimer: ReturnType<typeof setInterval> | undefined;
  /** The endpoint cannot restart ICE: silence is left to ICE. */
  #noRestart = false;
  /** ICE servers the endpoint's last 201 named (`Link`), for every connection after. */
  #linked: RTCIceServer[] = [];
  /**
   * The ICE username fragment of ours the endpoint took last (offer, answer
   * or restart): candidates are trickled under it only. A failed restart's
   * new one would be taken for another restart.
   */
  #ufrag: string | undefined;
  /** start() calls so far: a failure of an earlier one is let go. */
  #attempts = 0;
  #onOnline = () => {
    const state = this.#pc?.connectionState;
    if (state === "disconnected" || state === "failed") void this.restart();
  };

  constructor(options: HttpMediaSessionOptions) {
    this.#options = options;
  }

  get connection(): RTCPeerConnection | undefined {
    return this.#pc;
  }

  /**
   * Starts (or starts again) with a new session. Never rejects: a failure of
   * an attempt given up meanwhile (stopped, or started again) is let go; of
   * the one under way, it ends the session, refused.
   */
  start(): Promise<void> {
    const attempt = ++this.#attempts;
    return this.#start().catch((error) => {
      if (attempt === this.#attempts && !this.#stopped) {
        this.#cannotTake("session", error);
      }
    });
  }

  async #start(): Promise<void> {
    if (this.#stopped) addEventListener("online", this.#onOnline);
    this.#stopped = false;
    // A new session: perhaps another endpoint, silence watched again.
    this.#noRestart = false;
    this.#end();
    const options = this.#options;
    options.onStatus({ kind: "connecting" });
    if (this.#answering) return await this.#answer();
    const pc = this.#open();
    await pc.setLocalDescription();
    await gathered(pc);
    if (this.#pc !== pc) return;
    // Sent in the offer: not trickled again.
    this.#late = [];
    const response = await this.#fetch(options.url, {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body: pc.localDescription!.sdp,
    });
    if (this.#pc !== pc) return;
    if (response?.status === 400 && options.serverOffer) {
      await response.body?.cancel();
      this.#answering = true;
      return await this.#answer();
    }
    // 201 as the RFC says; a 200 with an answer plays as well.
    if (!response?.ok) return this.#refused(response);
    this.#took(pc, response);
    const sdp = await response.text().catch(() => undefined);
    if (this.#pc !== pc) return;
    // The network dropped mid-answer: asked again, as for no answer.
    if (sdp === undefined) return this.#refused(undefined);
    try {
      await pc.setRemoteDescription({ type: "answer", sdp });
    } catch (error) {
      if (this.#pc === pc) this.#cannotTake("answer", error);
      return;
    }
    options.onStatus({ kind: "open" });
    this.#taken(pc);
  }

  /**
   * A server offer: a POST without one, the endpoint's offer in its 201,
   * our answer by PATCH (`application/sdp`) with the candidates gathered.
   */
  async #answer(): Promise<void> {
    const pc = this.#open();
    const response = await this.#fetch(this.#options.url, {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body: "",
    });
    if (this.#pc !== pc) return;
    if (!response?.ok) return this.#refused(response);
    // Its URL is kept only once the answer is in: candidates trickled
    // before it would be refused (the endpoint has nothing to add them to).
    const resource = this.#took(pc, response);
    this.#resource = undefined;
    try {
      await pc.setRemoteDescription({
        type: "offer",
        sdp: await response.text(),
      });
      await pc.setLocalDescription();
    } catch (error) {
      if (this.#pc !== pc) return;
      this.#resource = resource;
      return this.#cannotTake("offer", error);
    }
    await gathered(pc);
    if (this.#pc !== pc) return;
    this.#late = [];
    const answered = resource &&
      await this.#fetch(resource, {
        method: "PATCH",
        headers: { "content-type": "application/sdp" },
        body: pc.localDescription!.sdp,
      });
    if (this.#pc !== pc) return;
    // Known from here on: the session is DELETEd when it ends.
    this.#resource = resource;
    if (!answered || !answered.ok) return this.#refused(answered || undefined);
    this.#options.onStatus({ kind: "open" });
    this.#taken(pc);
  }

  /**
   * The browser cannot take the endpoint's offer or answer: the session
   * ends (DELETEd), refused; asking again would get the same one.
   */
  #cannotTake(what: string, error: unknown): void {
    this.#end();
    this.#options.onStatus({
      kind: "refused",
      status: 0,
      code: "negotiation-failed",
      message: `The browser refused the endpoint's ${what}: ${error}`,
    });
  }

  /** A new connection, its handlers on (the old one ended). */
  #open(): RTCPeerConnection {
    const options = this.#options;
    const pc = options.newConnection();
    this.#pc = pc;
    this.#link(pc);
    options.setup(pc);
    pc.onconnectionstatechange = () => this.#onState(pc);
    pc.onicecandidate = ({ candidate }) => {
      // Before the 201 they wait; during a restart they wait for its
      // answer (the tag changes), those gathered by then went in its PATCH.
      if (candidate && this.#pc === pc) {
        this.#late.push(candidate);
        if (this.#resource && !this.#restarting) this.#trickle();
      }
    };
    this.#path = {};
    if (options.fellSilent || options.stoppedReceiving) {
      this.#silenceTimer ??= setInterval(
        () => void this.#checkPath(),
        SILENCE_CHECK_MS,
      );
    }
    return pc;
  }

  /** The 201's session: its URL, tag and ICE servers kept; the URL. */
  #took(pc: RTCPeerConnection, response: Response): string | undefined {
    const location = response.headers.get("location");
    // Against where the POST went (after any redirect), as a relative
    // `whep-url` of the page's own origin is not a base on its own.
    this.#resource = location
      ? new URL(
        location,
        response.url || new URL(this.#options.url, globalThis.location?.href),
      ).href
      : undefined;
    this.#etag = response.headers.get("etag") ?? undefined;
    const iceServers = linkedIceServers(response.headers.get("link"));
    // Used from this connection's next restart on (RFC 9725 §4.6), and by
    // the next session's connection (a new session after a failure, say).
    if (iceServers.length) this.#link(pc, this.#linked = iceServers);
    return this.#resource;
  }

  /**
   * `pc` with the endpoint's ICE servers, if it named any, beside the
   * page's (one named again replaces its earlier credentials).
   */
  #link(pc: RTCPeerConnection, iceServers = this.#linked): void {
    if (!iceServers.length) return;
    const configuration = pc.getConfiguration();
    const named = new Set(iceServers.map((server) => String(server.urls)));
    const own = (configuration.iceServers ?? []).filter((server) =>
      !named.has(String(server.urls))
    );
    try {
      pc.setConfiguration({
        ...configuration,
        iceServers: [...own, ...iceServers],
      });
    } catch {
      // A browser that cannot change them keeps its own.
    }
  }

  /**
   * Sends and hears nothing back, or plays and gets no media
   * (path-silence.ts): our address changed, most likely; restarted at once
   * rather than after ICE's seconds.
   */
  async #checkPath(): Promise<void> {
    const pc = this.#pc;
    const { fellSilent, stoppedReceiving } = this.#options;
    if (
      !pc || this.#restarting || this.#noRestart ||
      pc.connectionState !== "connected"
    ) return;
    let received = 0;
    let sent = 0;
    let media = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "transport") {
        received += s.packetsReceived ?? 0;
        sent += s.packetsSent ?? 0;
      } else if (s.type === "inbound-rtp") media += s.packetsReceived ?? 0;
    });
    const now = performance.now();
    if (
      this.#pc === pc &&
      (fellSilent
        ? fellSilent(this.#path, received, sent, now, SILENT_PATH_MS)
        : !!stoppedReceiving?.(this.#path, media, now, SILENT_PATH_MS))
    ) {
      console.info("live: the path went silent: ICE restart");
      void this.restart(true);
    }
  }

  /**
   * An ICE restart by PATCH; an endpoint that cannot do one (or a session
   * it no longer knows) gets a new session instead, unless the restart was
   * for a silence and the connection still stands (ICE watches it).
   */
  async restart(silent = false): Promise<void> {
    const pc = this.#pc;
    const resource = this.#resource;
    if (!pc || this.#restarting || this.#stopped) return;
    if (!resource) return this.#again(0);
    // It answers the endpoint's offer: a new session (the endpoint offers
    // again) rather than an offer of its own.
    if (this.#answering) return void this.start();
    this.#restarting = true;
    try {
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      await gathered(pc);
      if (this.#pc !== pc) return;
      // In the PATCH; those found from here on are trickled after it.
      this.#late = [];
      const response = await this.#fetch(resource, {
        method: "PATCH",
        headers: { "content-type": TRICKLE_ICE_SDPFRAG, "if-match": "*" },
        body: fragmentOf(pc.localDescription!.sdp),
      });
      if (this.#pc !== pc) return;
      const status = response?.status ?? 0;
      if (status === 429 || status === 503 || status === 0) {
        // Busy or unreachable: the same session, asked again when it says
        // (within reason); this attempt's candidates go with the next.
        this.#late = [];
        this.#timer = setTimeout(
          () => void this.restart(),
          retryAfterMs(response),
        );
        return;
      }
      if (status === 409) {
        // Taken over by a newer session of ours (another tab): not again.
        const { code, message } = await readRefusal(response!);
        this.#end();
        return this.#options.onStatus({
          kind: "refused",
          status,
          ...(code !== undefined ? { code } : {}),
          message,
        });
      }
      if (status !== 200) {
        // It cannot restart (405, 422, 501…) or lost the session (404).
        console.info(`live: ICE restart refused (${status})`);
        if (status !== 404 && silent && pc.connectionState === "connected") {
          // A silence, perhaps a quiet endpoint: ICE says if it is gone.
          this.#noRestart = true;
          return;
        }
        return void this.start();
      }
      this.#etag = response!.headers.get("etag") ?? this.#etag;
      const remote = pc.remoteDescription!.sdp;
      await pc.setRemoteDescription({
        type: "answer",
        sdp: withIce(remote, parseFragment(await response!.text())),
      });
      this.#restarting = false;
      this.#taken(pc);
    } catch (error) {
      console.info("live: ICE restart failed", error);
      if (this.#pc === pc) void this.start();
    } finally {
      this.#restarting = false;
    }
  }

  /** Stops and ends the session on the server. */
  stop(): void {
    this.#stopped = true;
    removeEventListener("online", this.#onOnline);
    clearInterval(this.#silenceTimer);
    this.#silenceTimer = undefined;
    this.#end();
  }

  #onState(pc: RTCPeerConnection): void {
    if (this.#pc !== pc) return;
    const state = pc.connectionState;
    this.#options.onConnectionState(state);
    clearTimeout(this.#timer);
    if (state === "failed") void this.restart();
    else if (state === "disconnected") {
      this.#timer = setTimeout(
        () => void this.restart(),
        DISCONNECTED_GRACE_MS,
      );
    }
  }

  /** The endpoint took `pc`'s local description: trickle under it. */
  #taken(pc: RTCPeerConnection): void {
    this.#ufrag = iceCredentials(pc.localDescription!.sdp)?.ufrag;
    this.#trickle();
  }

  /** Candidates found since, in one PATCH (lost ones cost only a path). */
  #trickle(): void {
    const resource = this.#resource;
    const sdp = this.#pc?.localDescription?.sdp;
    // Until the endpoint took this description, they wait.
    if (!resource || !sdp || iceCredentials(sdp)?.ufrag !== this.#ufrag) {
      return;
    }
    const late = this.#late.splice(0);
    if (!late.length) return;
    // Under the bundled transport's credentials, m= line and mid.
    const body = fragmentOf(sdp, late.map((c) => `a=${c.candidate}`));
    void this.#fetch(resource, {
      method: "PATCH",
      headers: {
        "content-type": TRICKLE_ICE_SDPFRAG,
        ...(this.#etag ? { "if-match": this.#etag } : {}),
      },
      body,
    });
  }

  /** The POST was not answered: ask again later, or give up. */
  async #refused(response: Response | undefined): Promise<void> {
    const status = response?.status ?? 0;
    const { code, message } = response
      ? await readRefusal(response)
      : { message: "" };
    const retryable = this.#options.retryable ?? defaultRetryable;
    if (!status || retryable(status, code)) {
      return this.#again(status, code, retryAfterMs(response));
    }
    this.#end();
    this.#options.onStatus({
      kind: "refused",
      status,
      ...(code !== undefined ? { code } : {}),
      message,
    });
  }

  #again(status: number, code?: string, afterMs = RETRY_MS): void {
    if (this.#stopped) return;
    this.#options.onStatus({
      kind: "retrying",
      status,
      ...(code !== undefined ? { code } : {}),
    });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.start(), afterMs);
  }

  /** `fetch` with the Bearer token; undefined when the network failed. */
  async #fetch(url: string, init: RequestInit): Promise<Response | undefined> {
    const token = this.#options.token();
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    try {
      return await fetch(url, { ...init, headers });
    } catch {
      return undefined;
    }
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#pc?.close();
    this.#pc = undefined;
    this.#late = [];
    this.#etag = undefined;
    const resource = this.#resource;
    this.#resource = undefined;
    if (resource) {
      // keepalive: the DELETE still goes when the page is closing.
      void this.#fetch(resource, { method: "DELETE", keepalive: true });
    }
  }
}

/**
 * What a refusal says: an RFC 9457 problem (`application/problem+json`),
 * or JSON with `error`, gives our code and its `detail` (or `message`);
 * any other body is the message as it is, without a code.
 */
export async function readRefusal(response: Response): Promise<RefusalBody> {
  const text = await response.text().catch(() => "");
  if (!/json/i.test(response.headers.get("content-type") ?? "")) {
    return { message: text };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text };
  }
  if (!body || typeof body !== "object") return { message: text };
  const { error, detail, message } = body as Record<string, unknown>;
  const said = typeof detail === "string"
    ? detail
    : typeof message === "string"
    ? message
    : text;
  return typeof error === "string" && error
    ? { code: error, message: said }
    : { message: said };
}

/**
 * The row for `code`, if the role's table has one. A code read from an
 * HTTP answer (a WHIP or WHEP problem body) is acted on only then: a code
 * that is only logged, or newer than this client, leaves its status to
 * decide. Here, not in error-policy.ts: only the WHIP and WHEP chunks ask,
 * each given its element's table.
 */
export function ruling(
  code: string | undefined,
  policy: ErrorPolicy,
): Ruling | undefined {
  if (code === undefined || !Object.hasOwn(policy, code)) return undefined;
  return { code: code as RuledCode, reaction: policy[code] };
}

/**
 * Whether to ask again, by the error policy's `ruled` reaction to the
 * body's code where it has one (retry: yes; fail, or a token to renew: no),
 * else `byStatus`. A token cannot be renewed here: these clients send the
 * element's `token` and never ask a `tokenProvider`, so, as a session
 * without a provider does, they fail.
 */
export function retriesBy(
  ruled: Ruling | undefined,
  byStatus: boolean,
): boolean {
  switch (ruled?.reaction.do) {
    case "retry":
      return true;
    case "fail":
    case "renew-token":
      return false;
    default:
      // Logged codes, the client's own, none: the status says.
      return byStatus;
  }
}

/** Resolves when gathering completes, or after {@link GATHER_MS}. */
function gathered(pc: RTCPeerConnection): Promise<void> {
  return new Promise<void>((done) => {
    if (pc.iceGatheringState === "complete") return done();
    setTimeout(done, GATHER_MS);
    pc.addEventListener(
      "icegatheringstatechange",
      () => pc.iceGatheringState === "complete" && done(),
    );
  });
}

/** RFC 9725 §4.6 `Link: <turn:…>; rel="ice-server"; username=…` headers. */
export function linkedIceServers(header: string | null): RTCIceServer[] {
  const servers: RTCIceServer[] = [];
  for (const link of header?.split(/,(?=\s*<)/) ?? []) {
    const url = /<([^>]+)>/.exec(link)?.[1];
    if (!url || !/;\s*rel="?ice-server"?/i.test(link)) continue;
    const param = (name: string) =>
      new RegExp(`;\\s*${name}="([^"]*)"`, "i").exec(link)?.[1];
    const username = param("username");
    const credential = param("credential");
    servers.push(
      username !== undefined && credential !== undefined
        ? { urls: url, username, credential }
        : { urls: url },
    );
  }
  return servers;
}

/**
 * When to ask again after `response`: its `Retry-After` seconds (within
 * reason: at most {@link MAX_RETRY_AFTER_MS}), else {@link RETRY_MS}.
 */
function retryAfterMs(response: Response | undefined): number {
  const after = Number(response?.headers.get("retry-after")) * 1_000;
  return after > 0 ? Math.min(after, MAX_RETRY_AFTER_MS) : RETRY_MS;
}
