/**
 * The WHIP/WHEP client (components/session/http-media-session.ts) against
 * an endpoint stub (`fetch` replaced) with connections that record what is
 * done to them: what needs no browser. In browsers, against real
 * connections: tests/browser/whep-*.test.ts, tests/e2e/whep.test.ts.
 */
import assert from "node:assert/strict";
import {
  HttpMediaSession,
  type HttpMediaStatus,
} from "../../components/session/http-media-session.ts";
import { parseFragment } from "../../protocol/sdp-fragment.ts";

const LOCAL = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "a=ice-ufrag:mine",
  "a=ice-pwd:minepasswordminepassword",
  "a=mid:0",
  "",
].join("\r\n");

const PAGE_SERVER = { urls: "stun:stun.shop.example:3478" };

/** A connection that keeps what it is given, gathering at once. */
class FakeConnection {
  iceGatheringState = "complete";
  connectionState: RTCPeerConnectionState = "new";
  localDescription: { sdp: string } | null = null;
  remoteDescription: { sdp: string } | null = null;
  onconnectionstatechange: (() => void) | null = null;
  onicecandidate: ((e: { candidate: unknown }) => void) | null = null;
  /** The page's own ICE servers (the element's `ice-servers`). */
  configuration: RTCConfiguration = { iceServers: [PAGE_SERVER] };
  addEventListener() {}
  /** An ICE restart's offer has a new username fragment. */
  createOffer(options?: { iceRestart?: boolean }) {
    const sdp = options?.iceRestart ? LOCAL.replace("mine", "next") : LOCAL;
    return Promise.resolve({ type: "offer", sdp });
  }
  setLocalDescription(description?: { sdp: string }) {
    this.localDescription = { sdp: description?.sdp ?? LOCAL };
    return Promise.resolve();
  }
  setRemoteDescription(description: { sdp: string }) {
    this.remoteDescription = description;
    return Promise.resolve();
  }
  getConfiguration() {
    return this.configuration;
  }
  setConfiguration(configuration: RTCConfiguration) {
    this.configuration = configuration;
  }
  close() {
    this.connectionState = "closed";
  }
  /** The connection fails (ICE gave up). */
  fail() {
    this.connectionState = "failed";
    this.onconnectionstatechange?.();
  }
}

interface Request {
  method: string;
  url: string;
  body: string;
}

/** `fetch` answered by `answer` until disposed; every request kept. */
function endpoint(answer: (request: Request) => Response) {
  const original = globalThis.fetch;
  const requests: Request[] = [];
  globalThis.fetch = (input, init) => {
    const request = {
      method: init?.method ?? "GET",
      url: String(input),
      body: String(init?.body ?? ""),
    };
    requests.push(request);
    return Promise.resolve(answer(request));
  };
  return {
    requests,
    [Symbol.dispose]: () => globalThis.fetch = original,
  };
}

function session(url: string) {
  const connections: FakeConnection[] = [];
  const statuses: HttpMediaStatus[] = [];
  const media = new HttpMediaSession({
    url,
    token: () => null,
    newConnection: () => {
      const pc = new FakeConnection();
      connections.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    setup: () => {},
    onConnectionState: () => {},
    onStatus: (status) => statuses.push(status),
  });
  return { media, connections, statuses };
}

/** Resolves once `check()` holds (the client's steps are a few promises). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  assert.ok(check(), `never: ${what}`);
}

const answered = (status = 201, headers: Record<string, string> = {}) =>
  new Response("v=0\r\n", {
    status,
    headers: { "content-type": "application/sdp", ...headers },
  });

Deno.test("a 200 with an answer plays as a 201 does; a relative Location is the resource under the POST's URL", async () => {
  using stub = endpoint((r) =>
    r.method === "POST"
      ? answered(200, { location: "/whep/s/session-1" })
      : new Response(null, { status: 204 })
  );
  const { media, statuses, connections } = session(
    "https://media.example/whep/s",
  );
  await media.start();
  assert.deepEqual(statuses.at(-1), { kind: "open" });
  assert.equal(connections[0].remoteDescription?.sdp, "v=0\r\n");
  media.stop();
  assert.deepEqual(stub.requests.at(-1), {
    method: "DELETE",
    url: "https://media.example/whep/s/session-1",
    body: "",
  });
});

Deno.test("a trickled candidate goes in RFC 8840's shape: the transport's credentials, its m= line and mid", async () => {
  using stub = endpoint((r) =>
    r.method === "POST"
      ? answered(201, { location: "/whep/s/1", etag: '"a"' })
      : new Response(null, { status: 204 })
  );
  const { media, connections } = session("https://media.example/whep/s");
  await media.start();
  connections[0].onicecandidate?.({
    candidate: {
      candidate: "candidate:9 1 udp 1 192.0.2.9 9000 typ srflx",
      sdpMid: "0",
    },
  });
  const patch = stub.requests.find((r) => r.method === "PATCH")!;
  assert.deepEqual(parseFragment(patch.body), {
    ufrag: "mine",
    pwd: "minepasswordminepassword",
    candidates: [{
      candidate: "candidate:9 1 udp 1 192.0.2.9 9000 typ srflx",
      mid: "0",
    }],
    end: false,
  });
  assert.match(patch.body, /^m=video /m);
  media.stop();
});

Deno.test("the ICE servers a 201 names (Link) are the next session's too: a failed connection whose restart the endpoint cannot do", async () => {
  const turn = {
    urls: "turn:turn.example.net:3478?transport=udp",
    username: "u",
    credential: "p",
  };
  let posts = 0;
  using _stub = endpoint((r) =>
    r.method === "POST"
      ? answered(201, {
        location: `/whep/s/${++posts}`,
        // Named by the first 201 only.
        ...(posts === 1
          ? {
            link:
              `<${turn.urls}>; rel="ice-server"; username="u"; credential="p"; credential-type="password"`,
          }
          : {}),
      })
      // It cannot restart ICE: a new session.
      : new Response(null, { status: r.method === "PATCH" ? 405 : 204 })
  );
  const { media, connections } = session("https://media.example/whep/s");
  await media.start();
  // Beside the page's own.
  assert.deepEqual(connections[0].configuration.iceServers, [
    PAGE_SERVER,
    turn,
  ]);
  connections[0].fail();
  await until(() => posts === 2, "a second session");
  // Its 201 named none: the servers the first one named.
  assert.equal(connections.length, 2);
  assert.deepEqual(connections[1].configuration.iceServers, [
    PAGE_SERVER,
    turn,
  ]);
  media.stop();
});

Deno.test("after a restart the endpoint could not take (503), candidates wait: under its new ufrag they would read as another restart", async () => {
  using stub = endpoint((r) =>
    r.method === "POST"
      ? answered(201, { location: "/whep/s/1", etag: '"a"' })
      : r.method === "PATCH" && r.body.includes("ice-ufrag:next")
      ? new Response(null, { status: 503 })
      : new Response(null, { status: 204 })
  );
  const { media, connections } = session("https://media.example/whep/s");
  await media.start();
  const pc = connections[0];
  await media.restart();
  const restarts = stub.requests.filter((r) => r.method === "PATCH");
  assert.equal(restarts.length, 1);
  // Gathering goes on past the restart's PATCH.
  pc.onicecandidate?.({
    candidate: {
      candidate: "candidate:9 1 udp 1 192.0.2.9 9000 typ srflx",
      sdpMid: "0",
    },
  });
  assert.equal(stub.requests.filter((r) => r.method === "PATCH").length, 1);
  media.stop();
});

Deno.test("a refused POST is asked again when its Retry-After says (WHEP's 409 while nothing is live), else 3 s later; at most 30 s", async () => {
  for (
    const [retryAfter, expected] of [
      ["2", 2_000],
      [undefined, 3_000],
      ["600", 30_000],
    ] as const
  ) {
    using api = endpoint(() =>
      new Response(
        JSON.stringify({ error: "not-live", detail: "Not live" }),
        {
          status: 409,
          headers: {
            "content-type": "application/problem+json",
            ...(retryAfter ? { "retry-after": retryAfter } : {}),
          },
        },
      )
    );
    const { media, statuses } = session("https://live.example/whep/s");
    const delays: number[] = [];
    const setTimeoutBefore = globalThis.setTimeout;
    globalThis.setTimeout = ((_: () => void, ms: number) => {
      delays.push(ms);
      return 0;
    }) as typeof setTimeout;
    try {
      // Its steps done once start() settles: the refusal read, the retry set.
      await media.start();
    } finally {
      globalThis.setTimeout = setTimeoutBefore;
      media.stop();
    }
    assert.equal(api.requests[0].method, "POST");
    assert.ok(statuses.some((s) => s.kind === "retrying"));
    assert.ok(delays.includes(expected), `${retryAfter}: ${delays}`);
  }
});
