/**
 * `<live-viewer whep-url>` against WHEP endpoints as they are, not only as
 * the RFC's examples: a relative `whep-url` and `Location`, a 200 for a
 * 201, an answer the browser refuses (the endpoint in the page:
 * support/whep-endpoint.ts).
 */
import { expect } from "@open-wc/testing";
import "../../components/live-viewer.ts";
import type { LiveErrorEvent } from "../../components/live-events.ts";
import { collidingExtensions } from "./support/fake-peers.ts";
import {
  eventually,
  frames,
  nextEvent,
  removeLiveElements,
  stateOf,
  videoOf,
} from "./support/helpers.ts";
import {
  inPageWhep,
  type InPageWhepOptions,
  WHEP_ORIGIN,
  WHEP_PATH,
} from "./support/whep-endpoint.ts";

type Viewer = HTMLElement & { state: string };

/** A viewer of `whepUrl` on the page, with its endpoint's stub. */
function watching(whepUrl: string, options?: InPageWhepOptions) {
  const endpoint = inPageWhep(options);
  const viewer = document.createElement("live-viewer") as Viewer;
  viewer.setAttribute("whep-url", whepUrl);
  viewer.setAttribute("ice-servers", "[]");
  document.body.append(viewer);
  return { endpoint, viewer };
}

describe("WHEP endpoints as they are", () => {
  let undo = () => {};
  afterEach(() => {
    removeLiveElements();
    undo();
  });

  it("a relative whep-url (the page's own server) with a relative Location: plays, and its session is DELETEd at the resolved URL", async () => {
    const { endpoint, viewer } = watching(`${WHEP_PATH}order-1`);
    undo = endpoint.undo;
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
    viewer.remove();
    const session = new URL(`${WHEP_PATH}order-1/session`, location.href).href;
    await eventually(
      () => endpoint.requests.includes(`DELETE ${session}`),
      () => `DELETE ${session} (requests: ${endpoint.requests.join(", ")})`,
    );
  });

  it("a 200 instead of the RFC's 201, with its answer: plays", async () => {
    const { endpoint, viewer } = watching(`${WHEP_ORIGIN}/whep/ok`, {
      status: 200,
    });
    undo = endpoint.undo;
    await stateOf(viewer, "live");
    expect(await frames(videoOf(viewer))).to.be.greaterThan(0);
  });

  it("an answer the browser refuses: the error state with negotiation-failed, and the session DELETEd", async () => {
    const { endpoint, viewer } = watching(`${WHEP_ORIGIN}/whep/refused`, {
      answer: collidingExtensions,
    });
    undo = endpoint.undo;
    const error = await nextEvent<LiveErrorEvent>(viewer, "live-error");
    expect(error.code).to.equal("negotiation-failed");
    await stateOf(viewer, "error");
    await eventually(
      () => endpoint.requests.some((r) => r.startsWith("DELETE ")),
      () => `a DELETE (requests: ${endpoint.requests.join(", ")})`,
    );
  });
});
