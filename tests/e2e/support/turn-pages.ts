/**
 * Lab pages for TURN (fault-lab.ts `turn`): the elements as a site embeds
 * them, with no `ice-servers`, so they use the list the signaling server
 * sends (its TURN credentials); each page also reports the candidate pair
 * every connected RTCPeerConnection selected (`pair`, `state` is JSON).
 */
import { broadcasterPage, type LabPage, viewerPage } from "./lab-pages.ts";

/** What a page reports of a connection's selected candidate pair. */
export interface SelectedPair {
  /** Which of the page's RTCPeerConnections (in creation order). */
  pc: number;
  /** The local candidate: "host", "srflx", "relay"… */
  local: string;
  /** A relay candidate's transport to the TURN server: "udp", "tcp", "tls". */
  relayProtocol?: string;
  /** The TURN URL a relay candidate came from (Chromium). */
  url?: string;
  /** The remote candidate's type and address. */
  remote: string;
  remoteAddress?: string;
}

/** JS: reports each connected RTCPeerConnection's selected pair, on change. */
const PAIR_REPORTER = `
  const reportedPairs = new Map();
  setInterval(async () => {
    for (const [index, pc] of labPcs.entries()) {
      if (pc.connectionState !== "connected") continue;
      const stats = await pc.getStats().catch(() => undefined);
      if (!stats) continue;
      let pair;
      // Chromium: the transport names it; Firefox: the pair says "selected".
      stats.forEach((s) => {
        if (s.type === "transport" && s.selectedCandidatePairId) {
          pair = stats.get(s.selectedCandidatePairId);
        }
      });
      if (!pair) {
        stats.forEach((s) => {
          if (s.type === "candidate-pair" && s.selected) pair = s;
        });
      }
      if (!pair) continue;
      const local = stats.get(pair.localCandidateId);
      const remote = stats.get(pair.remoteCandidateId);
      const described = JSON.stringify({
        pc: index,
        local: local?.candidateType,
        relayProtocol: local?.relayProtocol,
        url: local?.url,
        remote: remote?.candidateType,
        remoteAddress: remote?.address,
      });
      if (reportedPairs.get(index) === described) continue;
      reportedPairs.set(index, described);
      labPush({ kind: "pair", state: described });
    }
  }, 250);
`;

function withPairs(html: string): string {
  return html.replace(' ice-servers="[]"', "").replace(
    '</script>\n<script type="module"',
    `</script>\n<script>${PAIR_REPORTER}</script>\n<script type="module"`,
  );
}

/** `<live-broadcaster>` with the server's ICE servers, reporting its pairs. */
export function turnBroadcasterPage(page: LabPage): string {
  return withPairs(broadcasterPage(page));
}

/** `<live-viewer>` with the server's ICE servers, reporting its pairs. */
export function turnViewerPage(page: LabPage): string {
  return withPairs(viewerPage(page));
}

/** How a page's element connects: its own ICE servers, relay only or not. */
export interface IceChoice {
  iceServers: RTCIceServer[];
  relay: boolean;
}

function withIce(html: string, tag: string, ice: IceChoice): string {
  return withPairs(html).replace(
    `<${tag} `,
    `<${tag} ice-servers='${JSON.stringify(ice.iceServers)}'${
      ice.relay ? ' ice-transport-policy="relay"' : ""
    } `,
  );
}

/** `<live-broadcaster>` with `ice`'s ICE servers, reporting its pairs. */
export function iceBroadcasterPage(page: LabPage, ice: IceChoice): string {
  return withIce(broadcasterPage(page), "live-broadcaster", ice);
}

/**
 * `<live-viewer>` with `ice`'s ICE servers, reporting its pairs, and
 * `attach` just before the element is parsed (first frame from there).
 */
export function iceViewerPage(page: LabPage, ice: IceChoice): string {
  return withIce(viewerPage(page), "live-viewer", ice).replace(
    "<live-viewer ",
    `<script>labPush({ kind: "attach" });</script>\n<live-viewer `,
  );
}
