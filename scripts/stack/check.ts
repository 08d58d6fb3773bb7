/**
 * `deno task stack --check`: what a running stack must do, asked through
 * nginx as a browser would. Both nodes answer /healthz; a broadcaster on
 * one node and a viewer on the other meet (over Redis) and an offer and an
 * answer pass between them; each node has linked both Janus instances; the
 * demo pages and bundles are served. Throws with the first thing that fails.
 */
import type { ServerMessage } from "../../protocol/messages.ts";
import { logEvent, type SignalingNode, type Stack } from "./stack.ts";

const DEADLINE_MS = 10_000;

/** Runs every check against `stack`; `say` hears each one that passed. */
export async function checkStack(
  stack: Stack,
  say: (passed: string) => void,
): Promise<void> {
  const base = `http://127.0.0.1:${stack.port}`;
  await healthFromEveryNode(base, stack.nodes);
  say(`/healthz through nginx answered 200 from both nodes`);

  for (const path of ["/metrics", "/provider.html", "/live-widgets.js"]) {
    const response = await fetch(`${base}${path}`);
    await response.body?.cancel();
    if (response.status !== 200) {
      throw new Error(`GET ${path} through nginx answered ${response.status}`);
    }
  }
  say("/metrics, the demo pages and the bundles are served through nginx");

  await announceAndJoinAcrossNodes(`ws://127.0.0.1:${stack.port}/ws`, stack);
  say(
    "a broadcaster on one node and a viewer on the other met through nginx " +
      "(offer and answer relayed over Redis)",
  );

  for (const node of stack.nodes) {
    for (const janus of stack.janus) {
      await node.child.waitFor(
        `"sfu-up" for ${janus.url}`,
        (line) => {
          const event = logEvent(line);
          return event?.event === "sfu-up" && event.url === janus.url;
        },
        DEADLINE_MS,
      );
    }
    // Not every build of the server has the gauge in a cluster; where it
    // is, it must say linked.
    const metrics = await (await fetch(nodeUrl(node, "/metrics"))).text();
    const up = /^live_sfu_up (\d+)$/m.exec(metrics)?.[1];
    if (up !== undefined && up !== "1") {
      throw new Error(`${node.name}'s /metrics says live_sfu_up ${up}`);
    }
  }
  say("each node logged sfu-up for both Janus instances");

  for (const janus of stack.janus) {
    const sessions = await janusSessions(janus.adminUrl, stack.adminSecret);
    if (sessions < stack.nodes.length) {
      throw new Error(
        `${janus.name}'s admin API lists ${sessions} sessions, not one per node`,
      );
    }
  }
  say("each Janus's admin API lists a session of every node");
}

/** Sessions a Janus holds, asked through its admin API. */
async function janusSessions(url: string, secret: string): Promise<number> {
  const socket = new WebSocket(url, "janus-admin-protocol");
  try {
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener(
        "error",
        () => reject(new Error(`no Janus admin API at ${url}`)),
        { once: true },
      );
    });
    const reply = new Promise<{ janus?: string; sessions?: number[] }>(
      (resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer from the admin API at ${url}`)),
          DEADLINE_MS,
        );
        socket.addEventListener("message", (event) => {
          clearTimeout(timer);
          resolve(JSON.parse(event.data as string));
        }, { once: true });
      },
    );
    socket.send(JSON.stringify({
      janus: "list_sessions",
      transaction: "stack-check",
      admin_secret: secret,
    }));
    const answer = await reply;
    if (answer.janus !== "success") {
      throw new Error(
        `the admin API at ${url} answered ${JSON.stringify(answer)}`,
      );
    }
    return answer.sessions?.length ?? 0;
  } finally {
    socket.close();
  }
}

function nodeUrl(node: SignalingNode, path: string): string {
  return `http://127.0.0.1:${node.port}${path}`;
}

/** /healthz through nginx until both nodes have answered it (round robin). */
async function healthFromEveryNode(
  base: string,
  nodes: SignalingNode[],
): Promise<void> {
  const answered = new Set<string>();
  for (let i = 0; i < nodes.length * 4 && answered.size < nodes.length; i++) {
    const response = await fetch(`${base}/healthz`);
    const body = await response.json() as { status?: string; node?: string };
    if (response.status !== 200 || body.status !== "ok") {
      throw new Error(
        `/healthz through nginx answered ${response.status} ${
          JSON.stringify(body)
        }`,
      );
    }
    if (body.node) answered.add(body.node);
  }
  const silent = nodes.filter((node) => !answered.has(node.id));
  if (silent.length > 0) {
    throw new Error(
      `/healthz through nginx never came from ${
        silent.map((node) => `${node.name} (${node.id})`).join(", ")
      }`,
    );
  }
}

/** The node a socket just opened through nginx landed on. */
async function nodeOf(
  nodes: SignalingNode[],
  before: number[],
): Promise<number> {
  const after = await Promise.all(nodes.map(connections));
  const grew = after.findIndex((count, i) => count > before[i]);
  if (grew < 0) throw new Error("no node counts the new WebSocket");
  return grew;
}

async function connections(node: SignalingNode): Promise<number> {
  const body = await (await fetch(nodeUrl(node, "/healthz"))).json();
  return Number(body.connections);
}

async function announceAndJoinAcrossNodes(
  url: string,
  stack: Stack,
): Promise<void> {
  const streamId = `stack-check-${crypto.randomUUID().slice(0, 8)}`;
  const sockets: Client[] = [];
  try {
    const open = async () => {
      const before = await Promise.all(stack.nodes.map(connections));
      const client = await Client.connect(url);
      sockets.push(client);
      return { client, node: await nodeOf(stack.nodes, before) };
    };
    const broadcaster = await open();
    // Round robin sends the next one to the other node; a few tries in case
    // something else connected meanwhile.
    let viewer = await open();
    for (let i = 0; i < 4 && viewer.node === broadcaster.node; i++) {
      viewer = await open();
    }
    if (viewer.node === broadcaster.node) {
      throw new Error("nginx sent every WebSocket to the same node");
    }
    broadcaster.client.send({ type: "broadcaster-ready", streamId });
    await broadcaster.client.next("broadcaster-accepted");
    viewer.client.send({ type: "join-stream", streamId });
    const accepted = await viewer.client.next("join-accepted");
    if (!accepted.live) throw new Error("the viewer joined a stream not live");
    const joined = await broadcaster.client.next("viewer-joined");
    broadcaster.client.send({
      type: "webrtc-offer",
      streamId,
      viewerId: joined.viewerId,
      offer: { type: "offer", sdp: sdp(46117) },
    });
    await viewer.client.next("webrtc-offer");
    viewer.client.send({
      type: "webrtc-answer",
      streamId,
      answer: { type: "answer", sdp: sdp(88213) },
    });
    await broadcaster.client.next("webrtc-answer");
  } finally {
    for (const socket of sockets) socket.close();
  }
}

/** The smallest session description the server relays. */
function sdp(session: number): string {
  return `v=0\r\no=- ${session} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n`;
}

/** A WebSocket whose messages are taken in order, each within a deadline. */
class Client {
  #socket: WebSocket;
  #queue: ServerMessage[] = [];
  #waiting: ((message: ServerMessage) => void) | undefined;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data as string) as ServerMessage;
      if (this.#waiting) this.#waiting(message);
      else this.#queue.push(message);
    });
  }

  static async connect(url: string): Promise<Client> {
    const socket = new WebSocket(url);
    const client = new Client(socket);
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener(
        "error",
        () => reject(new Error(`no WebSocket at ${url}`)),
        { once: true },
      );
    });
    await client.next("welcome");
    return client;
  }

  send(message: unknown): void {
    this.#socket.send(JSON.stringify(message));
  }

  /** The next message, which must be of `type`. */
  async next<T extends ServerMessage["type"]>(
    type: T,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const message = this.#queue.shift() ?? await this.#wait(type);
    if (message.type !== type) {
      throw new Error(`expected ${type}, got ${JSON.stringify(message)}`);
    }
    return message as Extract<ServerMessage, { type: T }>;
  }

  close(): void {
    this.#socket.close();
  }

  #wait(type: string): Promise<ServerMessage> {
    const { promise, resolve, reject } = Promise.withResolvers<
      ServerMessage
    >();
    const timer = setTimeout(
      () => reject(new Error(`no ${type} within ${DEADLINE_MS / 1000} s`)),
      DEADLINE_MS,
    );
    const closed = () => reject(new Error(`socket closed awaiting ${type}`));
    this.#socket.addEventListener("close", closed, { once: true });
    this.#waiting = resolve;
    return promise.finally(() => {
      clearTimeout(timer);
      this.#waiting = undefined;
      this.#socket.removeEventListener("close", closed);
    });
  }
}
