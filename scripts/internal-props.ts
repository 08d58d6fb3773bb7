/**
 * Property names that only our own code reads and writes, which esbuild
 * renames in the minified bundles (`mangleProps`; issue 24's budgets). The
 * list is explicit and reviewed: a name belongs here only if it is never a
 * DOM, Lit or built-in property, never a protocol field, never public API
 * (custom-elements.json's members, docs/elements.md, `strings` keys, event
 * details, `getStats()`) and never a module export (a lazy chunk's exports
 * are read as properties of its namespace). tests/unit/internal-props.test.ts
 * holds each of these to that. esbuild renames consistently across the
 * chunks of one build.
 */
export const INTERNAL_PROPS = [
  // Options and callbacks between our own classes.
  "onStatus",
  "onConnectionState",
  "onChange",
  "onMessage",
  "onPathLost",
  "onRefused",
  "onStream",
  "onError",
  "onSession",
  "onStats",
  "onLive",
  "onStarved",
  "serverOffer",
  "retryable",
  "pingIntervalMs",
  "pongTimeoutMs",
  "initialMs",
  "maxMs",
  "afterMs",
  "bitrateFor",
  // StreamSession and SignalingClient (the element's `session` is typed,
  // not documented: its members are not listed API).
  "admit",
  "reconnectNow",
  "checkConnection",
  "turnRefused",
  "networkSuspect",
  "lostBy",
  "hasStreamId",
  "checkNow",
  "newConnection",
  "e2eeReady",
  // State machines' facts.
  "facts",
  "intent",
  "presence",
  "hasStream",
  "everOpen",
  "everAccepted",
  "sealed",
  "undecryptable",
  "phase",
  // Peers, uplinks, the camera.
  "iceRestarts",
  "replacedBy",
  "orphan",
  "queue",
  "staleTimer",
  "graceTimer",
  "budgetTimer",
  "retryTimer",
  "budgeted",
  "applyBitrates",
  "handleOffer",
  "handleAnswer",
  "handleCandidate",
  "restartBroken",
  "closeAll",
  "stale",
  "videoTrack",
  "onLost",
  "switchTo",
  "hasMicrophone",
  "micOn",
  "mirrored",
  "totalKbps",
  "maxPerViewerKbps",
  "minPerViewerKbps",
] as const;

/** esbuild's `mangleProps`: exactly the names above. */
export const INTERNAL_PROPS_PATTERN = new RegExp(
  `^(?:${INTERNAL_PROPS.join("|")})$`,
);
