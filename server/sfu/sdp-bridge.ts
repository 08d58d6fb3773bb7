/**
 * WHEP with a VideoRoom that only ever offers. A WHEP player sends an offer
 * and wants an answer; Janus's VideoRoom makes its own offer for every
 * subscriber and never takes one (janus-gateway#3320). Both offers describe
 * one transport between the same two ends, so each side gets an answer made
 * from the other's offer: the player gets Janus's ICE credentials,
 * fingerprint, candidates, codecs and SSRCs under its own mids; Janus gets
 * the player's credentials and fingerprint under its own mids. DTLS roles
 * are fixed crosswise (the player connects, Janus accepts), and header
 * extensions are left out on both sides (their ids differ between the two
 * offers; without a mid extension the player sorts packets by SSRC).
 *
 * The media codecs must carry the same payload type in both offers (Janus
 * keeps the publisher's, browsers use the same defaults): a section whose
 * codec the player numbers otherwise is refused (port 0).
 */

interface Section {
  kind: string;
  mid: string;
  lines: string[];
}

interface Parsed {
  session: string[];
  sections: Section[];
}

export class SdpBridgeError extends Error {}

function parse(sdp: string): Parsed {
  const session: string[] = [];
  const sections: Section[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (!line) continue;
    if (line.startsWith("m=")) {
      sections.push({
        kind: line.slice(2).split(" ")[0],
        mid: "",
        lines: [line],
      });
    } else if (sections.length) {
      const section = sections[sections.length - 1];
      section.lines.push(line);
      if (line.startsWith("a=mid:")) section.mid = line.slice(6);
    } else session.push(line);
  }
  return { session, sections };
}

/** `a=<name>:` values of a section, falling back to the session level. */
function attr(parsed: Parsed, section: Section, name: string): string[] {
  const own = section.lines.filter((l) => l.startsWith(`a=${name}:`));
  return (own.length
    ? own
    : parsed.session.filter((l) => l.startsWith(`a=${name}:`)));
}

/** Payload type -> `codec/clock[/channels]`, from a section's rtpmap lines. */
function codecs(section: Section): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of section.lines) {
    const match = /^a=rtpmap:(\d+) (.+)$/.exec(line);
    if (match) map.set(match[1], match[2].toLowerCase());
  }
  return map;
}

/** Repair and redundancy formats: served only with the codec they carry. */
const HELPERS = /^(rtx|red|ulpfec|flexfec)/;

/**
 * The payload types both offers give the same codec: media codecs, then
 * the repair formats (rtx) of those.
 */
function servable(
  source: Section | undefined,
  offered: Map<string, string>,
  wanted: Map<string, string>,
): string[] {
  const same = [...offered].filter(([pt, codec]) => wanted.get(pt) === codec);
  const media = same.filter(([, codec]) => !HELPERS.test(codec)).map(([pt]) =>
    pt
  );
  if (!source || media.length === 0) return [];
  const repair = same.filter(([pt, codec]) => {
    if (!codec.startsWith("rtx")) return false;
    const apt = source.lines.find((l) => l.startsWith(`a=fmtp:${pt} `))
      ?.match(/apt=(\d+)/)?.[1];
    return apt !== undefined && media.includes(apt);
  }).map(([pt]) => pt);
  return [...media, ...repair];
}

/** The lines of a section about payload types `pts` (rtpmap, fmtp, rtcp-fb). */
function payloadLines(section: Section, pts: string[]): string[] {
  return section.lines.filter((line) => {
    const match = /^a=(rtpmap|fmtp|rtcp-fb):(\d+) /.exec(line);
    return match !== null && pts.includes(match[2]);
  });
}

function transport(parsed: Parsed, section: Section): string[] {
  const lines = [
    ...attr(parsed, section, "ice-ufrag"),
    ...attr(parsed, section, "ice-pwd"),
    ...attr(parsed, section, "fingerprint"),
  ];
  if (lines.length < 3) {
    throw new SdpBridgeError("An offer lacks ICE credentials or a fingerprint");
  }
  return lines;
}

function sessionId(parsed: Parsed): string {
  return /^o=\S+ (\S+) /.exec(
    parsed.session.find((l) => l.startsWith("o=")) ?? "",
  )
    ?.[1] ?? String(Date.now());
}

/**
 * The two answers: `toPlayer` for the WHEP player's offer, `toJanus` for
 * Janus's subscriber offer. Throws {@link SdpBridgeError} when no section of
 * the player's offer can be served.
 */
export function bridge(
  playerOffer: string,
  janusOffer: string,
): { toPlayer: string; toJanus: string } {
  const player = parse(playerOffer);
  const janus = parse(janusOffer);
  if (!player.sections.length || !janus.sections.length) {
    throw new SdpBridgeError("An offer has no media section");
  }
  const playerTransport = transport(player, player.sections[0]);
  const janusTransport = transport(janus, janus.sections[0]);
  // Janus's section -> the player's it serves, with the payload types.
  const pairs = new Map<Section, { player: Section; pts: string[] }>();
  const toPlayer: string[] = [
    "v=0",
    `o=- ${sessionId(janus)} 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
  ];
  const served: string[] = [];
  const playerSections: string[][] = [];
  for (const section of player.sections) {
    const source = janus.sections.find((candidate) =>
      candidate.kind === section.kind && !pairs.has(candidate) &&
      !candidate.lines.some((l) => l === "a=inactive") &&
      !candidate.lines[0].startsWith(`m=${candidate.kind} 0 `)
    );
    const wanted = codecs(section);
    const offered = source ? codecs(source) : new Map<string, string>();
    const pts = servable(source, offered, wanted);
    const proto = section.lines[0].split(" ")[2];
    if (!source || pts.length === 0) {
      const fmt = section.lines[0].split(" ")[3] ?? "0";
      playerSections.push([
        `m=${section.kind} 0 ${proto} ${fmt}`,
        "c=IN IP4 0.0.0.0",
        `a=mid:${section.mid}`,
        "a=inactive",
      ]);
      continue;
    }
    pairs.set(source, { player: section, pts });
    served.push(section.mid);
    playerSections.push([
      `m=${section.kind} 9 ${proto} ${pts.join(" ")}`,
      "c=IN IP4 0.0.0.0",
      ...janusTransport,
      "a=setup:passive",
      `a=mid:${section.mid}`,
      "a=sendonly",
      "a=rtcp-mux",
      ...source.lines.filter((l) => l === "a=rtcp-rsize"),
      ...payloadLines(source, pts),
      ...source.lines.filter((l) =>
        l.startsWith("a=ssrc") || l.startsWith("a=msid:")
      ),
      ...source.lines.filter((l) =>
        l.startsWith("a=candidate:") || l === "a=end-of-candidates"
      ),
    ]);
  }
  if (!served.length) {
    throw new SdpBridgeError(
      "No section of the offer matches the stream's codecs",
    );
  }
  toPlayer.push(`a=group:BUNDLE ${served.join(" ")}`);
  for (const lines of playerSections) toPlayer.push(...lines);

  const toJanus: string[] = [
    "v=0",
    `o=- ${sessionId(player)} 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    `a=group:BUNDLE ${
      janus.sections.filter((s) => pairs.has(s)).map((s) => s.mid).join(" ")
    }`,
  ];
  for (const section of janus.sections) {
    const pair = pairs.get(section);
    const proto = section.lines[0].split(" ")[2];
    if (!pair) {
      const fmt = section.lines[0].split(" ")[3] ?? "0";
      toJanus.push(
        `m=${section.kind} 0 ${proto} ${fmt}`,
        "c=IN IP4 0.0.0.0",
        `a=mid:${section.mid}`,
        "a=inactive",
      );
      continue;
    }
    toJanus.push(
      `m=${section.kind} 9 ${proto} ${pair.pts.join(" ")}`,
      "c=IN IP4 0.0.0.0",
      ...playerTransport,
      "a=setup:active",
      `a=mid:${section.mid}`,
      "a=recvonly",
      "a=rtcp-mux",
      ...payloadLines(section, pair.pts),
      ...pair.player.lines.filter((l) => l.startsWith("a=candidate:")),
    );
  }
  return {
    toPlayer: toPlayer.join("\r\n") + "\r\n",
    toJanus: toJanus.join("\r\n") + "\r\n",
  };
}

/** Janus's mid for the player's `mid` (trickled candidates name the player's). */
export function janusMid(
  playerOffer: string,
  janusOffer: string,
  mid: string,
): string | undefined {
  const player = parse(playerOffer).sections;
  const janus = parse(janusOffer).sections;
  const index = player.findIndex((section) => section.mid === mid);
  if (index < 0) return janus[0]?.mid;
  const kind = player[index].kind;
  const nth = player.slice(0, index).filter((s) => s.kind === kind).length;
  return janus.filter((s) => s.kind === kind)[nth]?.mid ?? janus[0]?.mid;
}
