/**
 * The fault lab's pages for end-to-end encryption (issue 25): a keyed
 * `<live-broadcaster>` (rotating to a second key a while after it is live,
 * if asked), a `<live-viewer>` with or without the key, and a spy: a bare
 * subscriber speaking Janus's own API that checks every frame Janus
 * forwards with an SFrame reader of its own (RFC 9605, written here again
 * from the RFC rather than imported, so the elements' format is checked by
 * a second implementation).
 */
import {
  janusSubscriberScript,
  type LabPage,
  REPORTER,
  watch,
} from "./lab-pages.ts";

/** A page's key for one epoch: base64url of its bytes. */
export interface LabKey {
  epoch: number;
  key: string;
}

/** 16 random bytes as base64url, a new key per call. */
export function newLabKey(epoch = 0): LabKey {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const key = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-")
    .replaceAll("/", "_").replace(/=+$/, "");
  return { epoch, key };
}

/** The element made in script, its key set before it is connected. */
function keyed(
  tag: string,
  page: LabPage,
  attributes: Record<string, string>,
  key: LabKey | null,
  keys: LabKey[],
): string {
  return `
  await customElements.whenDefined("${tag}");
  const made = document.createElement("${tag}");
  const keys = ${JSON.stringify(keys)};
  ${key ? `made.e2eeKey = ${JSON.stringify(key)};` : ""}
  ${
    keys.length
      ? `made.e2eeKeyProvider = async (streamId, epoch) => {
    labPush({ kind: "state", state: "key asked " + epoch });
    const found = keys.find((k) => k.epoch === epoch);
    if (!found) throw new Error("no key for epoch " + epoch);
    return found;
  };`
      : ""
  }
  for (const [name, value] of Object.entries(${
    JSON.stringify({
      "stream-id": page.streamId,
      "signaling-url": page.signalingUrl,
      "ice-servers": "[]",
      ...attributes,
    })
  })) made.setAttribute(name, value);
  labPush({ kind: "attach" });
  document.body.append(made);`;
}

/**
 * A `<live-broadcaster>` encrypting with `key` (none: in the clear, made
 * the same way); with `rotateTo`, it sets that key `rotateAfterMs` after it
 * first went live (state `rotated`).
 */
export function e2eeBroadcasterPage(
  key: LabKey | null,
  rotateTo?: LabKey,
  rotateAfterMs = 3_000,
) {
  return (page: LabPage): string =>
    `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module" src="/live-broadcaster.js"></script>
<script type="module">${
      keyed(
        "live-broadcaster",
        page,
        {
          autostart: "",
          "video-width": "640",
          "video-height": "480",
        },
        key,
        [],
      )
    }
  ${watch("live-broadcaster")}
  ${
      rotateTo
        ? `const rotate = () => setTimeout(() => {
    element.e2eeKey = ${JSON.stringify(rotateTo)};
    labPush({ kind: "state", state: "rotated" });
  }, ${rotateAfterMs});
  if (element.state === "live") rotate();
  else element.addEventListener("live-state-change", function once(event) {
    if (event.state !== "live") return;
    element.removeEventListener("live-state-change", once);
    rotate();
  });`
        : ""
    }
</script>`;
}

/**
 * A `<live-viewer>` with `key` (or none), its provider answering from
 * `keys`; reports presented frames, the decoder's count and the picture's
 * width.
 */
export function e2eeViewerPage(key: LabKey | null, keys: LabKey[] = []) {
  return (page: LabPage): string =>
    `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module" src="/live-viewer.js"></script>
<script type="module">${keyed("live-viewer", page, {}, key, keys)}
  ${watch("live-viewer")}
  await element.updateComplete;
  for (const video of element.shadowRoot.querySelectorAll("video")) {
    const loop = () => {
      labPush({ kind: "frame" });
      video.requestVideoFrameCallback(loop);
    };
    video.requestVideoFrameCallback(loop);
  }
  let decoded = 0;
  let width = 0;
  setInterval(async () => {
    const stats = await element.getStats();
    const now = stats?.framesDecoded ?? 0;
    if (now !== decoded) labPush({ kind: "decoded", value: (decoded = now) });
    // The decoded picture's width (the SFU's layer shows in it).
    if (stats?.width && stats.width !== width) {
      labPush({ kind: "width", value: (width = stats.width) });
    }
  }, 250);
</script>`;
}

/**
 * The spy's worker: every frame Janus forwards read as
 * `clear prefix || SFrame header || AES-GCM ciphertext and tag`, opened
 * with the keys it was given; each verdict posted (`sframe <epoch>`,
 * `unreadable`), the frame dropped (nothing reaches a decoder).
 */
const SPY_WORKER = `
  const keys = new Map();
  const derived = new Map();
  const text = new TextEncoder();
  onmessage = ({ data }) => {
    for (const { epoch, key } of data) {
      const b64 = key.replaceAll("-", "+").replaceAll("_", "/");
      keys.set(epoch, Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
    }
  };
  const info = (label, kid) => {
    const out = new Uint8Array(label.length + 10);
    out.set(text.encode(label));
    new DataView(out.buffer).setBigUint64(label.length, kid);
    out[label.length + 9] = 4; // AES_128_GCM_SHA256_128
    return out;
  };
  const derive = async (base, kid) => {
    const ikm = await crypto.subtle.importKey("raw", base, "HKDF", false, ["deriveBits"]);
    const bits = (label, n) => crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: info(label, kid) },
      ikm, n * 8);
    const key = await crypto.subtle.importKey("raw",
      await bits("SFrame 1.0 Secret key ", 16), "AES-GCM", false, ["decrypt"]);
    return { key, salt: new Uint8Array(await bits("SFrame 1.0 Secret salt ", 12)) };
  };
  const field = (bytes, at, length) => {
    let value = 0n;
    for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(bytes[at + i]);
    return value;
  };
  const open = async (bytes, prefix) => {
    let at = prefix;
    const config = bytes[at++];
    if (config === undefined) return "unreadable";
    let kid = BigInt((config >> 4) & 7);
    if (config & 0x80) { kid = field(bytes, at, Number(kid) + 1); at += Number((config >> 4) & 7) + 1; }
    let ctr = BigInt(config & 7);
    if (config & 0x08) { ctr = field(bytes, at, Number(ctr) + 1); at += (config & 7) + 1; }
    const epoch = Number(kid >> 40n);
    const base = keys.get(epoch);
    if (!base || at > bytes.length) return "unreadable";
    const id = kid.toString();
    if (!derived.has(id)) derived.set(id, await derive(base, kid));
    const { key, salt } = derived.get(id);
    const nonce = salt.slice();
    for (let i = 0; i < 8; i++) nonce[11 - i] ^= Number((ctr >> BigInt(8 * i)) & 0xffn);
    const aad = new Uint8Array(at);
    aad.set(bytes.subarray(prefix, at));
    aad.set(bytes.subarray(0, prefix), at - prefix);
    try {
      await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: aad },
        key, bytes.subarray(at));
      return "sframe " + epoch;
    } catch {
      return "unreadable";
    }
  };
  onrtctransform = ({ transformer }) => {
    const { kind } = transformer.options;
    transformer.readable.pipeTo(new WritableStream({
      async write(frame) {
        const bytes = new Uint8Array(frame.data);
        // VP8: its payload header stays clear (10 bytes on a key frame, 3 else).
        const prefix = kind === "video" ? ((bytes[0] & 1) === 0 ? 10 : 3) : 0;
        postMessage({ kind, verdict: await open(bytes, prefix) });
      },
    }));
  };
`;

/**
 * A bare subscriber of Janus `room` over Janus's own API, its receivers
 * behind the spy's transform (SPY_WORKER) with `keys`: reports each
 * frame's verdict (`spy`, `state`: `video sframe 0`, `audio unreadable`…).
 */
export function janusSpyPage(
  janusUrl: () => string,
  room: () => number,
  keys: LabKey[],
) {
  return (page: LabPage): string =>
    `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module">
  const worker = new Worker(URL.createObjectURL(
    new Blob([${JSON.stringify(SPY_WORKER)}], { type: "text/javascript" })));
  worker.postMessage(${JSON.stringify(keys)});
  worker.onmessage = ({ data }) =>
    labPush({ kind: "spy", state: data.kind + " " + data.verdict });
  ${
      janusSubscriberScript(
        janusUrl(),
        String(room()),
        `({ receiver, track }) => {
    receiver.transform = new RTCRtpScriptTransform(worker, { kind: track.kind });
  }`,
      )
    }
</script>`;
}
