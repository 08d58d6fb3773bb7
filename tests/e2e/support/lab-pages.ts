/**
 * The fault lab's pages: a broadcaster and a viewer that run on their own
 * (no DevTools connection reaches into a namespace) and report what they
 * see to the lab site: every state, every presented frame, every
 * RTCPeerConnection created, every live-error, with the wall-clock time.
 */
export interface LabPage {
  /** How the reports name this page. */
  name: string;
  signalingUrl: string;
  streamId: string;
}

/** Collects events and posts them to /report in batches, keeping them through outages. */
export const REPORTER = `
  const params = new URLSearchParams(location.search);
  const name = params.get("name");
  const queue = [];
  const push = (event) => queue.push({ t: Date.now(), ...event });
  const labPcs = [];
  const Original = RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(config) {
      super(config);
      labPcs.push(this);
      push({ kind: "pc" });
      this.addEventListener("connectionstatechange", () =>
        push({ kind: "ice", state: this.connectionState }));
      this.addEventListener("signalingstatechange", () =>
        push({ kind: "ice", state: "sdp " + this.signalingState }));
    }
    // Closed by the page (no event says so): a connection given up.
    close() {
      if (this.signalingState !== "closed") push({ kind: "ice", state: "closed" });
      super.close();
    }
  };
  const labSend = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === "string" && data.includes('"keyFrame":true')) {
      push({ kind: "keyframe" });
    }
    return labSend.call(this, data);
  };
  for (const type of ["online", "offline"]) {
    addEventListener(type, () => push({ kind: "net", state: type }));
  }
  navigator.connection?.addEventListener("change", () =>
    push({ kind: "net", state: "change" }));
  let sending = false;
  setInterval(async () => {
    if (sending || queue.length === 0) return;
    sending = true;
    const batch = queue.splice(0);
    try {
      const response = await fetch("/report", {
        method: "POST",
        body: JSON.stringify({ name, events: batch }),
      });
      if (!response.ok) throw new Error(String(response.status));
    } catch {
      // The link may be down: keep them for the next try.
      queue.unshift(...batch);
    }
    sending = false;
  }, 250);
  window.labPush = push;
  // Video bytes sent by every connection of the page (with ?meter).
  if (params.has("meter")) {
    setInterval(async () => {
      let bytes = 0;
      for (const pc of labPcs) {
        if (pc.signalingState === "closed") continue;
        (await pc.getStats().catch(() => [])).forEach((s) => {
          if (s.type === "outbound-rtp" && s.kind === "video") bytes += s.bytesSent;
        });
      }
      push({ kind: "bytes", value: bytes });
    }, 500);
  }
`;

export function watch(tag: string): string {
  return `
  const element = document.querySelector("${tag}");
  element.addEventListener("live-state-change", (event) =>
    labPush({ kind: "state", state: event.state }));
  element.addEventListener("live-error", (event) =>
    labPush({ kind: "error", code: event.code }));
  labPush({ kind: "state", state: element.state });
  await customElements.whenDefined("${tag}");
  await element.updateComplete;
  // An error before this script ran (autostart) shows only in the text.
  if (element.state === "error") {
    labPush({
      kind: "error",
      code: element.shadowRoot.querySelector("[role=status]")?.textContent,
    });
  }
  `;
}

/**
 * JS: calls `onFrame()` for each frame the `<live-viewer>` `viewer`
 * presents, on whichever of its videos is in front (`viewer.video`: a
 * connection taking over brings the other one to the front).
 */
const FOLLOW_FRAMES = `
  const followFrames = (viewer, onFrame) => {
    for (const video of viewer.shadowRoot.querySelectorAll("video")) {
      const loop = () => {
        if (video === viewer.video) onFrame();
        video.requestVideoFrameCallback(loop);
      };
      video.requestVideoFrameCallback(loop);
    }
  };
`;

export function viewerPage(page: LabPage): string {
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module" src="/live-viewer.js"></script>
<live-viewer stream-id="${page.streamId}" signaling-url="${page.signalingUrl}"
  ice-servers="[]"></live-viewer>
<script type="module">${watch("live-viewer")}${FOLLOW_FRAMES}
  await element.updateComplete;
  followFrames(element, () => labPush({ kind: "frame" }));
  // The decoded picture's width, when it changes (the SFU's layer shows in it).
  let width = 0;
  setInterval(async () => {
    const stats = await element.getStats();
    if (stats?.width && stats.width !== width) {
      width = stats.width;
      labPush({ kind: "width", value: width });
    }
  }, 250);
</script>`;
}

export function broadcasterPage(page: LabPage): string {
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module" src="/live-broadcaster.js"></script>
<live-broadcaster stream-id="${page.streamId}"
  signaling-url="${page.signalingUrl}" ice-servers="[]" autostart
  video-width="640" video-height="480"></live-broadcaster>
<script type="module">${watch("live-broadcaster")}
  // Its own connections to viewers (the SFU's not among them).
  let peers = 0;
  setInterval(() => {
    if (element.viewers.length === peers) return;
    peers = element.viewers.length;
    labPush({ kind: "peers", state: String(peers) });
  }, 100);
</script>`;
}

/**
 * `count` viewers in one page, joining one at a time: each joins once the
 * one before it presented 10 frames. Viewers listed in `seed` are bare
 * RTCPeerConnections written from the seed note; the others `<live-viewer>`s.
 * Every event names its viewer in `who` (`v1`, `v2`…).
 */
export function crowdPage(count: number, seed: number[] = []) {
  return (page: LabPage): string =>
    `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module" src="/live-viewer.js"></script>
<style>live-viewer, video { width: 160px; height: 90px; display: inline-block; }</style>
<script type="module">${FOLLOW_FRAMES}${seedViewerScript(page)}
  await customElements.whenDefined("live-viewer");
  const frames = new Map();
  const onFrame = (who) => () => {
    frames.set(who, (frames.get(who) ?? 0) + 1);
    labPush({ kind: "frame", who });
  };
  const watchFrames = (who, video) => {
    const loop = () => {
      onFrame(who)();
      video.requestVideoFrameCallback(loop);
    };
    video.requestVideoFrameCallback(loop);
  };
  const element = async (who) => {
    const viewer = document.createElement("live-viewer");
    viewer.setAttribute("stream-id", "${page.streamId}");
    viewer.setAttribute("signaling-url", "${page.signalingUrl}");
    viewer.setAttribute("ice-servers", "[]");
    viewer.addEventListener("live-state-change", (event) =>
      labPush({ kind: "state", state: event.state, who }));
    viewer.addEventListener("live-error", (event) =>
      labPush({ kind: "error", code: event.code, who }));
    labPush({ kind: "attach", who });
    document.body.append(viewer);
    await viewer.updateComplete;
    followFrames(viewer, onFrame(who));
  };
  const seed = (who) => {
    const video = document.createElement("video");
    video.autoplay = video.muted = video.playsInline = true;
    document.body.append(video);
    seedViewer(video, who);
    watchFrames(who, video);
  };
  const seedViewers = new Set(${JSON.stringify(seed)});
  for (let i = 1; i <= ${count}; i++) {
    const who = "v" + i;
    if (seedViewers.has(i)) seed(who);
    else await element(who);
    await new Promise((resolve) => {
      const check = () => (frames.get(who) ?? 0) >= 10 ? resolve() : setTimeout(check, 50);
      check();
    });
  }
</script>`;
}

/**
 * A viewer written from the seed note alone, on a bare RTCPeerConnection:
 * `join-stream`, then answer whatever `webrtc-offer` comes. It cannot know
 * whether the offer is the broadcaster's or the SFU's.
 */
export function seedViewerPage(page: LabPage): string {
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<video autoplay muted playsinline></video>
<script type="module">${seedViewerScript(page)}
  const video = document.querySelector("video");
  seedViewer(video);
  const onFrame = () => {
    labPush({ kind: "frame" });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
</script>`;
}

/**
 * `count` receive-only subscribers on bare RTCPeerConnections (the seed
 * protocol, one socket each), without a video element: each reports its
 * video frames received (`rx`) and decoded (`decoded`: Chromium may decode
 * a track nothing shows) every second, standing in for many viewers on a
 * small machine.
 */
export function receiverCrowdPage(count: number) {
  return (page: LabPage): string =>
    `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module">
  const pcs = new Map();
  const receive = (who) => {
    const ws = new WebSocket("${page.signalingUrl}");
    const send = (message) =>
      ws.send(JSON.stringify({ streamId: "${page.streamId}", ...message }));
    ws.onmessage = async ({ data }) => {
      const message = JSON.parse(data);
      if (message.type === "welcome") {
        send({ type: "join-stream" });
      } else if (message.type === "webrtc-offer") {
        pcs.get(who)?.close();
        const pc = new RTCPeerConnection();
        pcs.set(who, pc);
        pc.onicecandidate = ({ candidate }) => {
          if (candidate) {
            send({ type: "webrtc-ice-candidate", candidate: candidate.toJSON() });
          }
        };
        await pc.setRemoteDescription(message.offer);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        send({ type: "webrtc-answer", answer: { type: "answer", sdp: answer.sdp } });
      } else if (message.type === "webrtc-ice-candidate") {
        await pcs.get(who)?.addIceCandidate(message.candidate);
      } else if (message.type === "error") {
        labPush({ kind: "error", code: message.code, who });
      }
    };
  };
  for (let i = 1; i <= ${count}; i++) receive("v" + i);
  setInterval(async () => {
    for (const [who, pc] of pcs) {
      let frames = 0;
      let decoded = 0;
      for (const stat of (await pc.getStats()).values()) {
        if (stat.type === "inbound-rtp" && stat.kind === "video") {
          frames += stat.framesReceived ?? 0;
          decoded += stat.framesDecoded ?? 0;
        }
      }
      labPush({ kind: "rx", who, value: frames });
      labPush({ kind: "decoded", who, value: decoded });
    }
  }, 1000);
</script>`;
}

/**
 * JS: \`seedViewer(video, who)\` joins the page's stream as a viewer written
 * from the seed note alone would, and plays into \`video\`; errors are
 * reported (with \`who\` when given).
 */
function seedViewerScript(page: LabPage): string {
  return `
  const seedViewer = (video, who) => {
    const ws = new WebSocket("${page.signalingUrl}");
    let pc;
    ws.onmessage = async ({ data }) => {
      const message = JSON.parse(data);
      if (message.type === "welcome") {
        ws.send(JSON.stringify({ type: "join-stream", streamId: "${page.streamId}" }));
      } else if (message.type === "webrtc-offer") {
        pc?.close();
        pc = new RTCPeerConnection();
        pc.ontrack = ({ streams }) => { video.srcObject = streams[0]; };
        pc.onicecandidate = ({ candidate }) => {
          if (candidate) {
            ws.send(JSON.stringify({
              type: "webrtc-ice-candidate",
              streamId: "${page.streamId}",
              candidate: candidate.toJSON(),
            }));
          }
        };
        await pc.setRemoteDescription(message.offer);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        ws.send(JSON.stringify({
          type: "webrtc-answer",
          streamId: "${page.streamId}",
          answer: { type: "answer", sdp: answer.sdp },
        }));
      } else if (message.type === "webrtc-ice-candidate") {
        await pc?.addIceCandidate(message.candidate);
      } else if (message.type === "error") {
        labPush({ kind: "error", code: message.code, ...(who ? { who } : {}) });
      }
    };
  };
`;
}

/**
 * A broadcaster that publishes to the SFU when the server asks
 * (`sfu-publish`), on a bare RTCPeerConnection: what `<live-broadcaster>`
 * will do, written out for the server's side to be tested first.
 */
export function sfuPublisherPage(page: LabPage): string {
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module">
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 640, height: 480 },
    audio: true,
  });
  const ws = new WebSocket("${page.signalingUrl}");
  const send = (message) =>
    ws.send(JSON.stringify({ streamId: "${page.streamId}", ...message }));
  let pc;
  ws.onmessage = async ({ data }) => {
    const message = JSON.parse(data);
    if (message.type === "welcome") {
      send({ type: "broadcaster-ready" });
    } else if (message.type === "sfu-publish") {
      pc?.close();
      pc = new RTCPeerConnection();
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      pc.onicecandidate = ({ candidate }) => {
        if (candidate) {
          send({ type: "sfu-ice-candidate", candidate: candidate.toJSON() });
        }
      };
      pc.onconnectionstatechange = () =>
        labPush({ kind: "state", state: "sfu " + pc.connectionState });
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: "sfu-offer", offer: { type: "offer", sdp: offer.sdp } });
    } else if (message.type === "sfu-answer") {
      await pc.setRemoteDescription(message.answer);
    } else if (message.type === "viewer-joined") {
      labPush({
        kind: "state",
        state: message.sfu ? "viewer counted" : "asked for peer to peer",
      });
    } else if (message.type === "error") {
      labPush({ kind: "error", code: message.code });
    }
  };
</script>`;
}

/**
 * A broadcaster written from the seed note alone: one bare
 * RTCPeerConnection per `viewer-joined`. It knows nothing of the SFU.
 */
export function seedBroadcasterPage(page: LabPage): string {
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module">
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 640, height: 480 },
    audio: true,
  });
  const ws = new WebSocket("${page.signalingUrl}");
  const send = (message) =>
    ws.send(JSON.stringify({ streamId: "${page.streamId}", ...message }));
  const peers = new Map();
  ws.onmessage = async ({ data }) => {
    const message = JSON.parse(data);
    if (message.type === "welcome") {
      send({ type: "broadcaster-ready" });
    } else if (message.type === "viewer-joined") {
      const viewerId = message.viewerId;
      const pc = new RTCPeerConnection();
      peers.set(viewerId, pc);
      for (const track of stream.getTracks()) pc.addTrack(track, stream);
      pc.onicecandidate = ({ candidate }) => {
        if (candidate) {
          send({ type: "webrtc-ice-candidate", viewerId, candidate: candidate.toJSON() });
        }
      };
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: "webrtc-offer", viewerId, offer: { type: "offer", sdp: offer.sdp } });
    } else if (message.type === "webrtc-answer") {
      await peers.get(message.viewerId)?.setRemoteDescription(message.answer);
    } else if (message.type === "webrtc-ice-candidate") {
      await peers.get(message.viewerId)?.addIceCandidate(message.candidate);
    } else if (message.type === "sfu-publish") {
      labPush({ kind: "state", state: "asked to publish" });
    }
  };
</script>`;
}

/** The server's WHEP endpoint for the page's stream. */
export function whepUrlOf(page: LabPage): string {
  return page.signalingUrl.replace("ws://", "http://").replace(
    /\/ws$/,
    `/whep/${page.streamId}`,
  );
}

/**
 * A standard WHEP player on a bare RTCPeerConnection (the draft's flow, no
 * library): a crowd of one (\`whepCrowdPage\`).
 */
export function whepPlayerPage(page: LabPage): string {
  return whepCrowdPage(1)(page);
}

/**
 * A WHEP player nobody here wrote: \`WHEPClient\` from npm's \`whip-whep\`
 * (Medooze), which POSTs its offer at once and trickles candidates by PATCH.
 */
export function npmWhepPlayerPage(page: LabPage): string {
  const whep = whepUrlOf(page);
  const client = Deno.readTextFileSync(
    new URL("../../../node_modules/whip-whep/whep.js", import.meta.url),
  );
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<video autoplay muted playsinline></video>
<script type="module">
${client}
  const video = document.querySelector("video");
  const pc = new RTCPeerConnection();
  pc.addTransceiver("video", { direction: "recvonly" });
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.ontrack = ({ streams, track }) => {
    video.srcObject = streams[0] ?? new MediaStream([track]);
  };
  try {
    await new WHEPClient().view(pc, "${whep}");
    labPush({ kind: "state", state: "whep viewing" });
  } catch (error) {
    labPush({ kind: "error", code: String(error) });
  }
  const onFrame = () => {
    labPush({ kind: "frame" });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
</script>`;
}

/** \`<live-viewer whep-url>\` playing our own /whep/{streamId}: no signaling server. */
export function whepViewerPage(page: LabPage): string {
  const whep = whepUrlOf(page);
  return viewerPage(page).replace(
    /<live-viewer stream-id="[^"]*" signaling-url="[^"]*"/,
    `<live-viewer whep-url="${whep}"`,
  );
}

/**
 * \`count\` standard WHEP players on bare RTCPeerConnections (the draft's
 * flow, no library: recvonly offer with the candidates gathered, POST, the
 * answer applied) in one page, one after another: each starts once the one
 * before it presented 10 frames. Events name the player in \`who\`,
 * \`attach\` when it starts, \`whep <status>\` for the POST.
 */
export function whepCrowdPage(count: number) {
  return (page: LabPage): string => {
    const whep = whepUrlOf(page);
    return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<style>video { width: 160px; height: 90px; }</style>
<script type="module">
  const play = async (who) => {
    labPush({ kind: "attach", who });
    const video = document.createElement("video");
    video.autoplay = video.muted = video.playsInline = true;
    document.body.append(video);
    const pc = new RTCPeerConnection();
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = ({ streams, track }) => {
      video.srcObject = streams[0] ?? new MediaStream([track]);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      setTimeout(resolve, 1000);
      pc.onicegatheringstatechange = () =>
        pc.iceGatheringState === "complete" && resolve();
    });
    const response = await fetch("${whep}", {
      method: "POST",
      headers: { "content-type": "application/sdp" },
      body: pc.localDescription.sdp,
    });
    labPush({ kind: "state", state: "whep " + response.status, who });
    if (!response.ok) {
      return labPush({ kind: "error", code: await response.text(), who });
    }
    await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    let frames = 0;
    await new Promise((resolve) => {
      const onFrame = () => {
        labPush({ kind: "frame", who });
        if (++frames === 10) resolve();
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    });
  };
  for (let i = 1; i <= ${count}; i++) await play("v" + i);
</script>`;
  };
}

/**
 * A standard WHEP player asking for the server's offer (no library): an
 * empty POST, the 201's offer applied, the answer (its candidates gathered)
 * PATCHed as `application/sdp`. Reports `whep <status>` for both requests.
 */
export function whepServerOfferPage(page: LabPage): string {
  const whep = whepUrlOf(page);
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<video autoplay muted playsinline></video>
<script type="module">
  labPush({ kind: "attach" });
  const video = document.querySelector("video");
  const pc = new RTCPeerConnection();
  pc.ontrack = ({ streams, track }) => {
    if (track.kind === "video") {
      video.srcObject = streams[0] ?? new MediaStream([track]);
    }
  };
  const created = await fetch("${whep}", {
    method: "POST",
    headers: { "content-type": "application/sdp" },
  });
  labPush({ kind: "state", state: "whep " + created.status });
  if (created.status !== 201) {
    labPush({ kind: "error", code: await created.text() });
  } else {
    const resource = new URL(created.headers.get("location"), "${whep}");
    await pc.setRemoteDescription({ type: "offer", sdp: await created.text() });
    await pc.setLocalDescription();
    await new Promise((resolve) => {
      setTimeout(resolve, 1000);
      pc.onicegatheringstatechange = () =>
        pc.iceGatheringState === "complete" && resolve();
    });
    const answered = await fetch(resource, {
      method: "PATCH",
      headers: { "content-type": "application/sdp" },
      body: pc.localDescription.sdp,
    });
    labPush({ kind: "state", state: "whep " + answered.status });
    const onFrame = () => {
      labPush({ kind: "frame" });
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
</script>`;
}

/**
 * Eyevinn's webrtc-player (npm, `script`: its bundle, eyevinn-player.ts)
 * playing our /whep: each request it makes is reported as
 * `whep <METHOD> <status>`.
 */
export function eyevinnWhepPage(script: string) {
  return (page: LabPage): string => {
    const whep = whepUrlOf(page);
    return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<video autoplay muted playsinline></video>
<script>${script.replaceAll("</script", "<\\/script")}</script>
<script type="module">
  labPush({ kind: "attach" });
  const fetched = window.fetch;
  window.fetch = async (url, init) => {
    const response = await fetched(url, init);
    // Its requests only (the reports go by fetch too).
    if (String(url).includes("/whep/")) {
      labPush({
        kind: "state",
        state: "whep " + (init?.method ?? "GET") + " " + response.status,
      });
    }
    return response;
  };
  const video = document.querySelector("video");
  const player = new WebRTCPlayer({ video, type: "whep" });
  const onFrame = () => {
    labPush({ kind: "frame" });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  await player.load(new URL("${whep}"));
</script>`;
  };
}

/** The server's WHIP endpoint for the page's stream. */
export function whipUrlOf(page: LabPage): string {
  return whepUrlOf(page).replace(/\/whep\//, "/whip/");
}

/**
 * `<live-broadcaster whip-url>` publishing to `url(page)` (default: our own
 * /whip/{streamId}): no signaling server.
 */
export function whipBroadcasterPage(
  url: (page: LabPage) => string = whipUrlOf,
) {
  return (page: LabPage): string =>
    broadcasterPage(page).replace(
      /<live-broadcaster stream-id="[^"]*"\s+signaling-url="[^"]*"/,
      `<live-broadcaster whip-url="${url(page)}"`,
    );
}

/**
 * JS: a bare subscriber of Janus `room` (a JS expression) over Janus's own
 * API at `janusUrl` (no client library): waits for a publisher, subscribes,
 * answers Janus's offer on an RTCPeerConnection whose `ontrack` is
 * `ontrack` (a JS function expression).
 */
export function janusSubscriberScript(
  janusUrl: string,
  room: string,
  ontrack: string,
): string {
  return `
  const ws = new WebSocket(${JSON.stringify(janusUrl)}, "janus-protocol");
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const pending = new Map();
  let onJsep = () => {};
  ws.onmessage = ({ data }) => {
    const message = JSON.parse(data);
    if (message.janus === "ack") return;
    const wait = pending.get(message.transaction);
    if (wait && message.janus !== "event") {
      pending.delete(message.transaction);
      return wait(message);
    }
    if (message.jsep) onJsep(message.jsep);
  };
  const send = (body) => new Promise((resolve) => {
    const transaction = crypto.randomUUID();
    pending.set(transaction, resolve);
    ws.send(JSON.stringify({ ...body, transaction }));
  });
  const session = (await send({ janus: "create" })).data.id;
  setInterval(() => send({ janus: "keepalive", session_id: session }), 15000);
  const handle = (await send({
    janus: "attach", session_id: session, plugin: "janus.plugin.videoroom",
  })).data.id;
  const request = (body) => send({
    janus: "message", session_id: session, handle_id: handle, body,
  });
  const room = ${room};
  let feed;
  while (!feed) {
    const reply = await request({ request: "listparticipants", room });
    feed = reply.plugindata?.data?.participants?.find((p) => p.publisher)?.id;
    if (!feed) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  labPush({ kind: "state", state: "janus feed " + feed });
  const offered = new Promise((resolve) => (onJsep = resolve));
  ws.send(JSON.stringify({
    janus: "message", session_id: session, handle_id: handle,
    transaction: crypto.randomUUID(),
    body: { request: "join", ptype: "subscriber", room, streams: [{ feed }] },
  }));
  const offer = await offered;
  const pc = new RTCPeerConnection();
  pc.ontrack = ${ontrack};
  await pc.setRemoteDescription(offer);
  await pc.setLocalDescription();
  await new Promise((resolve) => {
    setTimeout(resolve, 1000);
    pc.onicegatheringstatechange = () =>
      pc.iceGatheringState === "complete" && resolve();
  });
  ws.send(JSON.stringify({
    janus: "message", session_id: session, handle_id: handle,
    transaction: crypto.randomUUID(), body: { request: "start" },
    jsep: { type: "answer", sdp: pc.localDescription.sdp },
  }));
`;
}

/**
 * A subscriber written against Janus's own API (WebSocket, VideoRoom, no
 * library): waits for a publisher in `room`, subscribes, answers Janus's
 * offer and reports each presented frame. For checking what reached a
 * Janus that is not ours to drive (simple-whip-server's).
 */
export function janusSubscriberPage(janusUrl: string, room: number) {
  return (page: LabPage): string =>
    `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<video autoplay muted playsinline></video>
<script type="module">
  const video = document.querySelector("video");
  ${
      janusSubscriberScript(
        janusUrl,
        String(room),
        `({ streams, track }) => {
    video.srcObject = streams[0] ?? new MediaStream([track]);
  }`,
      )
    }
  const onFrame = () => {
    labPush({ kind: "frame" });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
</script>`;
}
