/** Elements against a server that requires tokens (SIGNAL_SECRET). */
import { expect } from "@open-wc/testing";
import "../../components/live-broadcaster.ts";
import "../../components/live-viewer.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import {
  addBroadcaster,
  addViewer,
  frames,
  mintToken,
  newStreamId,
  nextEvent,
  removeLiveElements,
  restartSignaling,
  startSignaling,
  stateOf,
  videoOf,
} from "./support/helpers.ts";

const SECRET = "browser-test-secret-of-32-bytes-or-more";

function statusOf(element: HTMLElement): string {
  return element.shadowRoot!.querySelector("[role=status]")!.textContent!
    .trim();
}

describe("tokens", () => {
  afterEach(removeLiveElements);

  it("token attributes admit both elements and video flows", async () => {
    const { url, port } = await startSignaling(SECRET);
    const streamId = newStreamId();
    const broadcaster = addBroadcaster(url, streamId);
    broadcaster.token = await mintToken(port, {
      sub: "shop",
      stream: streamId,
      role: "broadcaster",
    });
    await broadcaster.start();
    await stateOf(broadcaster, "live");
    const viewer = addViewer(url, streamId, {
      token: await mintToken(port, {
        sub: "customer",
        stream: streamId,
        role: "viewer",
      }),
    });
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
  });

  it("a refused token is a clear error state with a live-error, and no endless retry", async () => {
    const { url, port } = await startSignaling(SECRET);
    const streamId = newStreamId();
    const wrong = await mintToken(port, {
      sub: "customer",
      stream: "another-order",
      role: "viewer",
    });
    const viewer = document.createElement("live-viewer");
    const error = nextEvent<LiveErrorEvent>(viewer, "live-error");
    viewer.setAttribute("signaling-url", url);
    viewer.setAttribute("stream-id", streamId);
    viewer.setAttribute("token", wrong);
    document.body.append(viewer);
    expect((await error).code).to.equal("token-wrong-stream");
    await stateOf(viewer, "error");
    // The English error texts are a chunk: the state renders once it is here.
    await viewer.updateComplete;
    expect(statusOf(viewer)).to.equal("You do not have access to this stream.");
  });

  it("tokenProvider is asked again after a reconnect only when its token is about to expire", async () => {
    const { url, port } = await startSignaling(SECRET);
    const streamId = newStreamId();
    const calls = { short: 0, long: 0 };
    const provider = (kind: "short" | "long", ttl: number) => async () => {
      calls[kind]++;
      return await mintToken(port, {
        sub: `c-${kind}`,
        stream: streamId,
        role: "viewer",
      }, ttl);
    };
    // 20 s left is inside the 30 s refresh margin; an hour is not.
    const short = addViewer(url, streamId);
    short.tokenProvider = provider("short", 20);
    const long = addViewer(url, streamId);
    long.tokenProvider = provider("long", 3600);
    // No broadcaster yet: both are admitted and wait.
    await stateOf(short, "waiting");
    await stateOf(long, "waiting");
    expect(calls).to.deep.equal({ short: 1, long: 1 });

    await restartSignaling(port);
    await stateOf(short, "reconnecting");
    await stateOf(short, "waiting");
    await stateOf(long, "waiting");
    expect(calls).to.deep.equal({ short: 2, long: 1 });
  });

  it("a viewer moved to another order asks for a token for that order", async () => {
    const { url, port } = await startSignaling(SECRET);
    const [first, second] = [newStreamId(), newStreamId()];
    const asked: string[] = [];
    const viewer = addViewer(url, first);
    viewer.tokenProvider = async ({ streamId }) => {
      asked.push(streamId);
      return await mintToken(port, {
        sub: "c",
        stream: streamId,
        role: "viewer",
      });
    };
    await stateOf(viewer, "waiting");
    viewer.setAttribute("stream-id", second);
    await stateOf(viewer, "connecting");
    await stateOf(viewer, "waiting");
    expect(asked).to.deep.equal([first, second]);
  });

  it("the same provider signing in elsewhere takes over: the old broadcaster stops and says why", async () => {
    const { url, port } = await startSignaling(SECRET);
    const streamId = newStreamId();
    const token = () =>
      mintToken(port, { sub: "shop-7", stream: streamId, role: "broadcaster" });
    const first = addBroadcaster(url, streamId);
    first.tokenProvider = token;
    await first.start();
    await stateOf(first, "live");
    const replaced = nextEvent<LiveErrorEvent>(first, "live-error");
    const second = addBroadcaster(url, streamId);
    second.tokenProvider = token;
    await second.start();
    await stateOf(second, "live");
    expect((await replaced).code).to.equal("replaced");
    await stateOf(first, "error");
    expect(first.shadowRoot!.querySelector("[part=message]")!.textContent).to
      .contain("taken over");
    expect(first.mediaStream).to.equal(undefined);
  });
});
