/**
 * RFC 8840 SDP fragments (`application/trickle-ice-sdpfrag`), as WHIP and
 * WHEP carry them in PATCH: trickled candidates under their `a=mid`, and,
 * for an ICE restart, new `a=ice-ufrag`/`a=ice-pwd`. Read by the server
 * (server/http/session-endpoint.ts) and written and read by the elements' WHIP and
 * WHEP clients (components/session/http-media-session.ts).
 */

/** MIME type of a fragment. */
export const TRICKLE_ICE_SDPFRAG = "application/trickle-ice-sdpfrag";

export interface FragmentCandidate {
  /** The `candidate:` attribute value, without `a=`. */
  candidate: string;
  /** The media section's mid it was under, if any. */
  mid: string | undefined;
}

export interface SdpFragment {
  /** New ICE credentials: an ICE restart when they differ from the current. */
  ufrag: string | undefined;
  pwd: string | undefined;
  candidates: FragmentCandidate[];
  /** `a=end-of-candidates` was in it. */
  end: boolean;
}

/** Reads a fragment (lenient about line ends and order). */
export function parseFragment(text: string): SdpFragment {
  const fragment: SdpFragment = {
    ufrag: undefined,
    pwd: undefined,
    candidates: [],
    end: false,
  };
  let mid: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("m=")) mid = undefined;
    else if (line.startsWith("a=mid:")) mid = line.slice(6);
    else if (line.startsWith("a=ice-ufrag:")) fragment.ufrag = line.slice(12);
    else if (line.startsWith("a=ice-pwd:")) fragment.pwd = line.slice(10);
    else if (line.startsWith("a=candidate:")) {
      fragment.candidates.push({ candidate: line.slice(2), mid });
    } else if (line === "a=end-of-candidates") fragment.end = true;
  }
  return fragment;
}

/** The first `a=ice-ufrag`/`a=ice-pwd` of a description (bundled: one transport). */
export function iceCredentials(
  sdp: string,
): { ufrag: string; pwd: string } | undefined {
  const ufrag = /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
  const pwd = /^a=ice-pwd:(\S+)/m.exec(sdp)?.[1];
  return ufrag && pwd ? { ufrag, pwd } : undefined;
}

/**
 * A fragment for the bundled transport of `sdp`: its credentials, and the
 * candidates of the section the transport is on (the BUNDLE group's first:
 * not the first section when an answer rejected it; without a group, the
 * first) under that section's `m=` line and mid; `a=end-of-candidates` when the
 * description has it. With `candidates` (`a=candidate:` lines), those
 * instead: a trickle (RFC 8840's shape, which some servers read strictly:
 * MediaMTX takes candidates only inside an `m=` section).
 */
export function fragmentOf(sdp: string, candidates?: string[]): string {
  const credentials = iceCredentials(sdp);
  const lines: string[] = [];
  if (credentials) {
    lines.push(`a=ice-ufrag:${credentials.ufrag}`);
    lines.push(`a=ice-pwd:${credentials.pwd}`);
  }
  const tag = /^a=group:BUNDLE (\S+)/m.exec(sdp)?.[1];
  const sections = sdp.split(/\r?\n(?=m=)/).slice(1);
  const first =
    sections.find((section) =>
      section.split(/\r?\n/).includes(`a=mid:${tag}`)
    ) ?? sections[0];
  if (first) {
    const media = first.split(/\r?\n/);
    lines.push(media[0]);
    for (const line of media) {
      if (
        line.startsWith("a=mid:") ||
        (!candidates &&
          (line.startsWith("a=candidate:") || line === "a=end-of-candidates"))
      ) lines.push(line);
    }
  }
  return lines.concat(candidates ?? []).join("\r\n") + "\r\n";
}

/**
 * `sdp` with the ICE credentials and candidates of `fragment` instead of its
 * own: the remote description after an ICE restart answered by PATCH.
 */
export function withIce(sdp: string, fragment: SdpFragment): string {
  const out: string[] = [];
  let section = -1;
  let mid: string | undefined;
  const flush = () => {
    // The candidates go to the section they were under, else the first.
    for (const c of fragment.candidates) {
      if (c.mid === undefined ? section === 0 : c.mid === mid) {
        out.push(`a=${c.candidate}`);
      }
    }
  };
  for (const line of sdp.split(/\r?\n/)) {
    if (!line) continue;
    if (line.startsWith("m=")) {
      if (section >= 0) flush();
      section++;
      mid = undefined;
    } else if (line.startsWith("a=mid:")) mid = line.slice(6);
    if (line.startsWith("a=candidate:") || line === "a=end-of-candidates") {
      continue;
    }
    if (fragment.ufrag && line.startsWith("a=ice-ufrag:")) {
      out.push(`a=ice-ufrag:${fragment.ufrag}`);
    } else if (fragment.pwd && line.startsWith("a=ice-pwd:")) {
      out.push(`a=ice-pwd:${fragment.pwd}`);
    } else out.push(line);
  }
  if (section >= 0) flush();
  return out.join("\r\n") + "\r\n";
}
