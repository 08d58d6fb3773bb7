/** getUserMedia rejections, classified by name into what a provider can act on. */
import assert from "node:assert/strict";
import {
  CameraError,
  classifyCameraError,
} from "../../components/media/camera-errors.ts";

const CASES: [string, string][] = [
  ["NotAllowedError", "permission-denied"],
  ["SecurityError", "permission-denied"],
  ["PermissionDeniedError", "permission-denied"],
  ["NotFoundError", "no-camera"],
  ["DevicesNotFoundError", "no-camera"],
  ["OverconstrainedError", "no-camera"],
  ["NotReadableError", "camera-in-use"],
  ["TrackStartError", "camera-in-use"],
  ["AbortError", "camera-in-use"],
  ["TypeError", "camera-error"],
  ["SomethingNew", "camera-error"],
];

for (const [name, code] of CASES) {
  Deno.test(`${name} -> ${code}`, () => {
    const cause = new DOMException("refused", name);
    const error = classifyCameraError(cause);
    assert.equal(error.code, code);
    assert.equal(error.cause, cause);
    assert.ok(error.message.length > 0);
  });
}

Deno.test("not an error at all: camera-error with no detail", () => {
  for (const value of [undefined, null, "text", 42]) {
    assert.equal(classifyCameraError(value).code, "camera-error");
  }
});

Deno.test("an Error's message is kept in camera-error", () => {
  const error = classifyCameraError(new Error("driver crashed"));
  assert.match(error.message, /driver crashed/);
});

Deno.test("a CameraError passes through unchanged", () => {
  const original = new CameraError("insecure-context", "needs https");
  assert.equal(classifyCameraError(original), original);
});
