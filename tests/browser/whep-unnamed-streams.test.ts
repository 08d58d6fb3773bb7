/**
 * `<live-viewer whep-url>` against a WHEP endpoint whose answer names no
 * stream (no `a=msid`: allowed, and some servers send none; browsers put
 * such tracks in one default stream, JSEP, RFC 8829 §5.10), or one per
 * track: the viewer shows both, its video first. The endpoint is in the page
 * (support/whep-endpoint.ts).
 */
import { expect } from "@open-wc/testing";
import "../../components/live-viewer.ts";
import {
  eventually,
  frames,
  removeLiveElements,
  stateOf,
  videoOf,
} from "./support/helpers.ts";
import { inPageWhep, WHEP_ORIGIN } from "./support/whep-endpoint.ts";

const ENDPOINT = `${WHEP_ORIGIN}/whep/unnamed`;

describe("WHEP playback of an endpoint that names no stream", () => {
  afterEach(removeLiveElements);

  for (
    const [streams, how] of [
      ["unnamed", "no a=msid at all"],
      ["none", "a=msid:- per track"],
      ["each", "a stream per track"],
    ] as const
  ) {
    it(`shows its video and its audio in one stream (${how})`, async () => {
      const { undo, removed, answers } = inPageWhep({ streams });
      try {
        const viewer = document.createElement("live-viewer") as
          & HTMLElement
          & { updateComplete: Promise<boolean>; state: string };
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
        await stateOf(viewer, "live");
        const said = answers[0].match(/^a=msid:.*$/gm) ?? [];
        if (streams === "unnamed") {
          // Really none: an a=msid per m= section was taken out.
          expect(said).to.deep.equal([]);
          expect(removed.filter((line) => line.startsWith("a=msid:")).length)
            .to.equal(2);
        } else if (streams === "none") {
          expect(said.length).to.equal(2);
          for (const line of said) expect(line).to.match(/^a=msid:- /);
        } else {
          // Two streams, one track each.
          const ids = said.map((line) => line.split(/[: ]/)[1]);
          expect(ids.length).to.equal(2);
          expect(ids[0]).to.not.equal(ids[1]);
          expect(ids).to.not.include("-");
        }
      } finally {
        undo();
      }
    });
  }
});
