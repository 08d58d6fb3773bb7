/**
 * What a WHIP or WHEP endpoint's answers mean for the elements' states
 * (components/session/whip-publisher.ts, components/session/whep-player.ts), through the
 * same state functions the elements publish.
 */
import assert from "node:assert/strict";
import {
  type BroadcasterFacts,
  broadcasterState,
  INITIAL_BROADCASTER_FACTS,
} from "../../components/state/broadcaster-state.ts";
import {
  BROADCASTER_ERRORS,
  VIEWER_ERRORS,
} from "../../components/session/error-policy.ts";
import {
  type HttpMediaStatus,
  readRefusal,
  ruling,
} from "../../components/session/http-media-session.ts";
import {
  INITIAL_VIEWER_FACTS,
  type ViewerFacts,
  viewerState,
} from "../../components/state/viewer-state.ts";
import {
  whepFacts,
  whepRetries,
} from "../../components/session/whep-player.ts";
import {
  whipFacts,
  whipRetries,
} from "../../components/session/whip-publisher.ts";

/** The error policy, as the elements pass it in. */
const asBroadcaster = (code: string | undefined) =>
  ruling(code, BROADCASTER_ERRORS);
const asViewer = (code: string | undefined) => ruling(code, VIEWER_ERRORS);

/** The broadcaster's state after `statuses`, from broadcasting on. */
function broadcaster(...statuses: HttpMediaStatus[]) {
  let facts: BroadcasterFacts = {
    ...INITIAL_BROADCASTER_FACTS,
    intent: "broadcasting",
  };
  let error;
  for (const status of statuses) {
    const outcome = whipFacts(status, facts.everAccepted, asBroadcaster);
    facts = { ...facts, ...outcome.patch };
    if (outcome.error?.fatal) facts = { ...facts, failure: outcome.error.code };
    error = outcome.error;
  }
  return { state: broadcasterState(facts), error };
}

function viewer(...statuses: HttpMediaStatus[]) {
  let facts: ViewerFacts = INITIAL_VIEWER_FACTS;
  let refused;
  for (const status of statuses) {
    const outcome = whepFacts(status, asViewer);
    facts = { ...facts, ...outcome.patch };
    refused = outcome.refused;
  }
  return { state: viewerState(facts), refused };
}

Deno.test("whip: connecting, then answered is live", () => {
  assert.equal(broadcaster({ kind: "connecting" }).state, "connecting");
  assert.equal(
    broadcaster({ kind: "connecting" }, { kind: "open" }).state,
    "live",
  );
});

Deno.test("whip: taken or busy is shown while it asks again; unreachable after live is reconnecting", () => {
  const taken = broadcaster({ kind: "retrying", status: 409 });
  assert.equal(taken.state, "error");
  assert.deepEqual(taken.error, {
    code: "stream-taken",
    message: "WHIP answered 409",
    fatal: false,
  });
  assert.equal(
    broadcaster({ kind: "retrying", status: 429 }).error?.code,
    "rate-limited",
  );
  // Never reached: say so. Reached before: reconnecting.
  assert.equal(broadcaster({ kind: "retrying", status: 0 }).state, "error");
  assert.equal(
    broadcaster({ kind: "open" }, { kind: "retrying", status: 503 }).state,
    "reconnecting",
  );
  // Answered again: live, the refusal gone.
  assert.equal(
    broadcaster({ kind: "retrying", status: 409 }, { kind: "open" }).state,
    "live",
  );
});

Deno.test("whip: 401, 403, a session's 409 (taken over) and other refusals are fatal with their codes", () => {
  for (
    const [status, code] of [
      [401, "token-required"],
      [403, "token-wrong-stream"],
      [409, "replaced"],
      [400, "invalid-field"],
    ] as const
  ) {
    const { state, error } = broadcaster({
      kind: "refused",
      status,
      message: "no",
    });
    assert.equal(state, "error");
    assert.deepEqual(error, { code, message: "no", fatal: true });
  }
});

Deno.test("whep: 404 is waiting, answered is negotiating until frames, refusals are errors", () => {
  assert.equal(viewer({ kind: "connecting" }).state, "connecting");
  assert.equal(viewer({ kind: "retrying", status: 404 }).state, "waiting");
  assert.equal(viewer({ kind: "retrying", status: 503 }).state, "connecting");
  assert.equal(viewer({ kind: "open" }).state, "negotiating");
  const refused = viewer({ kind: "refused", status: 403, message: "other" });
  assert.equal(refused.state, "error");
  assert.deepEqual(refused.refused, {
    code: "token-wrong-stream",
    message: "other",
  });
});

Deno.test("whep: 409, the draft's answer while no publisher is live, is waiting and asked again, as 404 from older servers is; a 409 whose code the policy knows is that code's", () => {
  for (const code of ["not-live", undefined]) {
    assert.equal(
      viewer({ kind: "retrying", status: 409, code }).state,
      "waiting",
    );
    assert.equal(whepRetries(409, code, asViewer), true, `${code}`);
  }
  assert.equal(whepRetries(404, "not-live", asViewer), true);
  // The stream's state refuses this player (it cannot decrypt); taken over.
  assert.equal(whepRetries(409, "stream-encrypted", asViewer), false);
  assert.equal(whepRetries(409, "replaced", asViewer), false);
  assert.equal(
    viewer({
      kind: "refused",
      status: 409,
      code: "stream-encrypted",
      message: "",
    }).refused?.code,
    "stream-encrypted",
  );
});

Deno.test("whip: the problem body's code where the policy has a row for it, shown as its retry says; else the status's", () => {
  const expired = broadcaster({
    kind: "refused",
    status: 401,
    code: "token-expired",
    message: "Token has expired",
  });
  assert.equal(expired.state, "error");
  assert.deepEqual(expired.error, {
    code: "token-expired",
    message: "Token has expired",
    fatal: true,
  });
  // Said nothing the policy knows: the status's guess, as before.
  for (const code of [undefined, "unsupported-media-type", "bad-sdp"]) {
    assert.equal(
      broadcaster({ kind: "refused", status: 401, code, message: "" }).error
        ?.code,
      "token-required",
    );
  }
  const limited = broadcaster({
    kind: "retrying",
    status: 429,
    code: "join-rate-limited",
  });
  assert.equal(limited.state, "error");
  assert.equal(limited.error?.code, "join-rate-limited");
  // A store away for a moment: asked again quietly, as over the socket.
  const store = broadcaster({
    kind: "retrying",
    status: 503,
    code: "cluster-unavailable",
  });
  assert.equal(store.state, "connecting");
  assert.equal(store.error?.code, "cluster-unavailable");
  // A logged code: the status decides, as before.
  const sfu = broadcaster(
    { kind: "open" },
    { kind: "retrying", status: 503, code: "sfu-unavailable" },
  );
  assert.equal(sfu.state, "reconnecting");
  assert.equal(sfu.error?.code, "signaling-unavailable");
});

Deno.test("whip: asked again as the policy says for the body's code (a POST replaced by our newer session stops), else by the status", () => {
  const cases: [number, string | undefined, boolean][] = [
    [409, "stream-taken", true],
    [409, "replaced", false],
    [409, undefined, true],
    [429, "join-rate-limited", true],
    [503, "cluster-unavailable", true],
    [503, "sfu-unavailable", true],
    [503, "server-full", true],
    [401, "token-expired", false],
    [400, "invalid-stream-id", false],
    [415, "unsupported-media-type", false],
  ];
  for (const [status, code, again] of cases) {
    assert.equal(whipRetries(status, code, asBroadcaster), again, `${code}`);
  }
});

Deno.test("whep: token-expired is its own failure (nothing to renew the token from: not asked again); a full stream fails as over the socket; the rest as the status says", () => {
  const expired = viewer({
    kind: "refused",
    status: 401,
    code: "token-expired",
    message: "Token has expired",
  });
  assert.equal(expired.state, "error");
  assert.deepEqual(expired.refused, {
    code: "token-expired",
    message: "Token has expired",
  });
  assert.equal(whepRetries(401, "token-expired", asViewer), false);
  assert.equal(whepRetries(503, "stream-full", asViewer), false);
  assert.equal(
    viewer({ kind: "refused", status: 503, code: "stream-full", message: "" })
      .refused?.code,
    "stream-full",
  );
  const cases: [number, string | undefined, boolean][] = [
    [404, "not-live", true],
    [404, undefined, true],
    [429, "join-rate-limited", true],
    [503, "cluster-unavailable", true],
    [503, "sfu-unavailable", true],
    [503, undefined, true],
    [403, "token-wrong-stream", false],
    [422, "unplayable-offer", false],
  ];
  for (const [status, code, again] of cases) {
    assert.equal(whepRetries(status, code, asViewer), again, `${code}`);
  }
  // 422's code has no row: the status's guess.
  assert.equal(
    viewer({
      kind: "refused",
      status: 422,
      code: "unplayable-offer",
      message: "",
    }).refused?.code,
    "invalid-field",
  );
});

Deno.test("a refusal's body: problem details or JSON with error give the code and the detail; any other body is its text, without a code", async () => {
  const answer = (body: string, type: string) =>
    new Response(body, { status: 401, headers: { "content-type": type } });
  assert.deepEqual(
    await readRefusal(answer(
      JSON.stringify({
        type: "about:blank",
        title: "Unauthorized",
        status: 401,
        detail: "Token has expired",
        error: "token-expired",
        message: "Token has expired",
      }),
      "application/problem+json",
    )),
    { code: "token-expired", message: "Token has expired" },
  );
  assert.deepEqual(
    await readRefusal(answer(
      '{"error":"stream-taken","message":"Taken"}',
      "application/json; charset=utf-8",
    )),
    { code: "stream-taken", message: "Taken" },
  );
  assert.deepEqual(
    await readRefusal(
      answer('{"title":"Nope","detail":"No"}', "application/problem+json"),
    ),
    { message: "No" },
  );
  for (
    const [body, type] of [
      ["Unauthorized", "text/plain"],
      ['{"error":"token-expired"}', "text/plain"],
      ["{not json", "application/json"],
      ['"token-expired"', "application/json"],
    ]
  ) {
    assert.deepEqual(await readRefusal(answer(body, type)), { message: body });
  }
});
