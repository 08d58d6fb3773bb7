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
const REPORTER = `
  const params = new URLSearchParams(location.search);
  const name = params.get("name");
  const queue = [];
  const push = (event) => queue.push({ t: Date.now(), ...event });
  const Original = RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(config) {
      super(config);
      push({ kind: "pc" });
      this.addEventListener("connectionstatechange", () =>
        push({ kind: "ice", state: this.connectionState }));
      this.addEventListener("signalingstatechange", () =>
        push({ kind: "ice", state: "sdp " + this.signalingState }));
    }
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
`;

function watch(tag: string): string {
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

export function viewerPage(page: LabPage): string {
  return `<!doctype html><meta charset="utf-8"><title>${page.name}</title>
<script>${REPORTER}</script>
<script type="module" src="/live-viewer.js"></script>
<live-viewer stream-id="${page.streamId}" signaling-url="${page.signalingUrl}"
  ice-servers="[]"></live-viewer>
<script type="module">${watch("live-viewer")}
  await element.updateComplete;
  const video = element.video;
  const onFrame = () => {
    labPush({ kind: "frame" });
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
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
</script>`;
}
