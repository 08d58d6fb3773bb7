/**
 * Every error code has a reaction in each role's table and a text in both
 * languages; a code names the same string for both roles (error-keys.ts).
 */
import assert from "node:assert/strict";
import { ERROR_CODES } from "../../protocol/error-codes.ts";
import { BROADCASTER_EN } from "../../components/ui/broadcaster-strings.ts";
import { BROADCASTER_ZH_CN } from "../../components/ui/broadcaster-strings-zh.ts";
import {
  BROADCASTER_ERRORS,
  type ErrorPolicy,
  type LiveErrorCode,
  reactionTo as reactionIn,
  type Role,
  VIEWER_ERRORS,
} from "../../components/session/error-policy.ts";
import { errorKey } from "../../components/ui/error-keys.ts";
import { ruling as rulingIn } from "../../components/session/http-media-session.ts";
import { VIEWER_EN } from "../../components/ui/viewer-strings-en.ts";
import { VIEWER_ZH_CN } from "../../components/ui/viewer-strings-zh.ts";

/** The element's own codes and the camera's, beside the protocol's. */
const CLIENT_CODES: LiveErrorCode[] = [
  "permission-denied",
  "no-camera",
  "camera-in-use",
  "insecure-context",
  "camera-error",
  "signaling-unavailable",
  "token-provider-failed",
  "turn-auth-failed",
  "missing-stream-id",
  "negotiation-failed",
  "e2ee-key-invalid",
  "e2ee-unsupported",
];
const CODES: LiveErrorCode[] = [...ERROR_CODES, ...CLIENT_CODES];
const STRINGS = {
  broadcaster: { en: BROADCASTER_EN, zh: BROADCASTER_ZH_CN },
  viewer: { en: VIEWER_EN, zh: VIEWER_ZH_CN },
};
const ROLES: Role[] = ["broadcaster", "viewer"];
const TABLES: Record<Role, ErrorPolicy> = {
  broadcaster: BROADCASTER_ERRORS,
  viewer: VIEWER_ERRORS,
};
const reactionTo = (code: string, role: Role) => reactionIn(code, TABLES[role]);
const ruling = (code: string | undefined, role: Role) =>
  rulingIn(code, TABLES[role]);
/**
 * The text an element's error state shows for `code`: the string the code
 * names, else `fallback`, the element's generic text (live-viewer.ts's
 * render, live-broadcaster.ts's #message).
 */
const errorText = (code: string, strings: object, fallback: string) =>
  (strings as Record<string, string | undefined>)[errorKey(code)] ||
  fallback;
/** Codes only a broadcaster meets: the camera's. */
const CAMERA_CODES = new Set([
  "permission-denied",
  "no-camera",
  "camera-in-use",
  "insecure-context",
  "camera-error",
]);

Deno.test("the element's own codes and the camera's have rows; the viewer's table has no camera's", () => {
  for (const code of CLIENT_CODES) {
    assert.ok(code in BROADCASTER_ERRORS, code);
    assert.equal(code in VIEWER_ERRORS, !CAMERA_CODES.has(code), code);
  }
});

/** Server codes only a viewer is sent: the broadcaster's table has no row. */
const VIEWER_ONLY = new Set(["stream-encrypted"]);

/**
 * The string each code with a row names: each row named its own before
 * error-keys.ts derived them (the same for both roles).
 */
const KEYS: Record<string, string> = {
  "invalid-stream-id": "invalidStreamId",
  "token-required": "notAuthorized",
  "token-malformed": "notAuthorized",
  "token-signature": "notAuthorized",
  "token-algorithm": "notAuthorized",
  "token-expired": "authExpired",
  "token-not-yet-valid": "notAuthorized",
  "token-wrong-stream": "notAuthorized",
  "token-wrong-role": "notAuthorized",
  "replaced": "replaced",
  "token-provider-failed": "notAuthorized",
  "missing-stream-id": "missingStreamId",
  "cluster-unavailable": "signalingUnavailable",
  "e2ee-key-invalid": "e2eeError",
  "e2ee-unsupported": "e2eeError",
  "invalid-field": "viewerError",
  "stream-taken": "streamTaken",
  "stream-full": "streamFull",
  "join-rate-limited": "tooManyAttempts",
  "permission-denied": "permissionDenied",
  "no-camera": "noCamera",
  "camera-in-use": "cameraInUse",
  "insecure-context": "insecureContext",
  "camera-error": "cameraError",
  "signaling-unavailable": "signalingUnavailable",
  "turn-auth-failed": "turnAuthFailed",
  "negotiation-failed": "negotiationFailed",
  "stream-encrypted": "e2eeError",
};

Deno.test("every code with a row in either table names its string", () => {
  const ruled = new Set([
    ...Object.keys(BROADCASTER_ERRORS),
    ...Object.keys(VIEWER_ERRORS),
  ]);
  assert.deepEqual(ruled, new Set(Object.keys(KEYS)));
  for (const code of ruled) assert.equal(errorKey(code), KEYS[code], code);
});

Deno.test("the viewer's table has the broadcaster's codes but the camera's", () => {
  const missing = Object.keys(BROADCASTER_ERRORS).filter((code) =>
    !(code in VIEWER_ERRORS)
  );
  assert.deepEqual(new Set(missing), CAMERA_CODES);
});

Deno.test("a protocol code without a row is one that is only logged", () => {
  for (const role of ROLES) {
    const logged = ERROR_CODES.filter((code) => !(code in TABLES[role]));
    const expected = role === "viewer"
      ? LOGGED
      : ERROR_CODES.filter((c) => LOGGED.includes(c) || VIEWER_ONLY.has(c));
    assert.deepEqual(logged, expected, role);
  }
});

Deno.test("stream-encrypted: the viewer reports it (its cannot-decrypt state), a broadcaster only logs it", () => {
  assert.deepEqual(reactionTo("stream-encrypted", "viewer"), { do: "report" });
  assert.equal(reactionTo("stream-encrypted", "broadcaster").do, "warn");
  assert.equal(errorKey("stream-encrypted"), "e2eeError");
  assert.ok(VIEWER_EN.e2eeError && VIEWER_ZH_CN.e2eeError);
});

Deno.test("the e2ee codes fail either element, each with its own words", () => {
  for (const code of ["e2ee-key-invalid", "e2ee-unsupported"]) {
    for (const role of ROLES) assert.equal(reactionTo(code, role).do, "fail");
    assert.equal(
      errorText(code, VIEWER_EN, ""),
      VIEWER_EN.e2eeError,
    );
    assert.equal(
      errorText(code, BROADCASTER_EN, ""),
      BROADCASTER_EN.e2eeError,
    );
    assert.notEqual(VIEWER_EN.e2eeError, BROADCASTER_EN.e2eeError);
  }
});

const LOGGED = [
  "bad-json",
  "binary-unsupported",
  "bad-message",
  "unknown-type",
  "message-too-large",
  "not-in-stream",
  "wrong-role",
  "unknown-viewer",
  "no-broadcaster",
  "rate-limited",
  "internal-error",
  "resume-refused",
  "bad-sdp",
  "sfu-unavailable",
];

Deno.test("a logged code only warns", () => {
  for (const code of LOGGED) {
    for (const role of ROLES) assert.equal(reactionTo(code, role).do, "warn");
  }
});

Deno.test("every code with a row names a string present in EN and zh-CN of an element", () => {
  for (const code of Object.keys(KEYS)) {
    const key = errorKey(code);
    const en = (BROADCASTER_EN as unknown as Record<string, string>)[key] ??
      (VIEWER_EN as unknown as Record<string, string>)[key];
    const zh = (BROADCASTER_ZH_CN as unknown as Record<string, string>)[key] ??
      (VIEWER_ZH_CN as unknown as Record<string, string>)[key];
    assert.ok(en, `${code}: no English text for ${key}`);
    assert.ok(zh, `${code}: no Chinese text for ${key}`);
    assert.notEqual(en, zh, `${code}: ${key} is not translated`);
  }
});

/** Codes only a broadcaster meets: the viewer opens no camera and is never replaced. */
const BROADCASTER_ONLY = new Set([...CAMERA_CODES, "replaced"]);

Deno.test("every code a role shows is explained by that role's own strings", () => {
  for (const role of ROLES) {
    for (const lang of ["en", "zh"] as const) {
      const strings = STRINGS[role][lang] as unknown as Record<string, string>;
      for (const code of CODES) {
        const reaction = reactionTo(code, role);
        const shown = reaction.do === "fail" ||
          reaction.do === "relay-only" ||
          (reaction.do === "retry" && reaction.shown) ||
          (reaction.do === "reconnect" && reaction.shown);
        if (!shown || (role === "viewer" && BROADCASTER_ONLY.has(code))) {
          continue;
        }
        const key = errorKey(code);
        assert.ok(strings[key], `${role} (${lang}) has no ${key} for ${code}`);
        assert.equal(
          errorText(code, strings, "fallback"),
          strings[key],
        );
      }
    }
  }
});

Deno.test("reactions per role", () => {
  const table: [string, Role, string][] = [
    ["stream-taken", "broadcaster", "retry"],
    ["join-rate-limited", "broadcaster", "retry"],
    ["join-rate-limited", "viewer", "retry"],
    ["token-expired", "viewer", "renew-token"],
    ["token-wrong-stream", "viewer", "fail"],
    ["replaced", "broadcaster", "fail"],
    ["stream-full", "viewer", "fail"],
    ["invalid-field", "viewer", "fail"],
    ["invalid-field", "broadcaster", "warn"],
    ["rate-limited", "broadcaster", "warn"],
    ["turn-auth-failed", "viewer", "relay-only"],
    ["permission-denied", "broadcaster", "fail"],
    // The viewer gives up once its retries are spent; the broadcaster
    // reports it and goes on with its other viewers.
    ["negotiation-failed", "viewer", "fail"],
    ["negotiation-failed", "broadcaster", "report"],
  ];
  for (const [code, role, reaction] of table) {
    assert.equal(reactionTo(code, role).do, reaction, `${role} ${code}`);
  }
  assert.deepEqual(reactionTo("turn-auth-failed", "broadcaster"), {
    do: "relay-only",
    then: "show",
  });
  assert.deepEqual(reactionTo("turn-auth-failed", "viewer"), {
    do: "relay-only",
    then: "fail",
  });
});

Deno.test("a code newer than this client, or an inherited name, only warns", () => {
  for (const code of ["some-future-code", "constructor", "__proto__"]) {
    for (const role of ROLES) assert.equal(reactionTo(code, role).do, "warn");
  }
});

Deno.test("an error's text falls back where the strings lack its key", () => {
  // A code without a row (a WHIP refusal's status may name a logged one,
  // `rate-limited`), a newer one or an inherited name names none of either
  // element's strings: the element's generic text shows (the broadcaster's
  // is `broadcasterError`, which such a code's row named before).
  for (
    const code of [...LOGGED, "some-future-code", "constructor", "__proto__"]
  ) {
    for (const role of ROLES) {
      for (const lang of ["en", "zh"] as const) {
        assert.equal(
          errorText(code, STRINGS[role][lang], "fallback"),
          "fallback",
          `${role} (${lang}) ${code}`,
        );
      }
    }
  }
  assert.equal(errorText("stream-taken", VIEWER_EN, "fallback"), "fallback");
  assert.equal(
    errorText("stream-taken", BROADCASTER_ZH_CN, "fallback"),
    BROADCASTER_ZH_CN.streamTaken,
  );
  assert.equal(
    errorText("token-signature", VIEWER_EN, "fallback"),
    VIEWER_EN.notAuthorized,
  );
});

Deno.test("ruling: the row's code and reaction for a code with a row; none for a logged code, an unknown one, an inherited name or no code", () => {
  assert.deepEqual(ruling("token-expired", "viewer"), {
    code: "token-expired",
    reaction: { do: "renew-token" },
  });
  assert.deepEqual(ruling("stream-taken", "broadcaster")?.reaction, {
    do: "retry",
    afterMs: 5_000,
    shown: true,
  });
  for (
    const code of [
      "sfu-unavailable",
      "bad-sdp",
      "not-found",
      "constructor",
      undefined,
    ]
  ) {
    for (const role of ROLES) assert.equal(ruling(code, role), undefined);
  }
});
