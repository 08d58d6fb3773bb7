/** The protocol validator on its own: shapes in, typed messages out. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  MAX_LOSS_PACKETS,
  STREAM_ID_PATTERN,
} from "../../protocol/messages.ts";
import {
  isStreamId,
  parseClientMessage,
  validateClientMessage,
} from "../../protocol/parse-client-message.ts";

Deno.test("isStreamId, the hot path's loop, agrees with STREAM_ID_PATTERN", () => {
  // Mostly near-valid ids (the allowed set and its neighbours in ASCII),
  // lengths around the 128 limit, and arbitrary Unicode.
  const near = fc.constantFrom(..."AZaz09._:-/;@[`{ \u00e9\u{1F600}\n");
  const ids = fc.oneof(
    fc.string({ unit: near, maxLength: 140 }),
    fc.string({
      unit: fc.constantFrom(..."aZ9._:-"),
      minLength: 120,
      maxLength: 135,
    }),
    fc.string({ unit: "binary", maxLength: 20 }),
  );
  fc.assert(
    fc.property(ids, (id) => isStreamId(id) === STREAM_ID_PATTERN.test(id)),
    { numRuns: 5000 },
  );
  assert.ok(isStreamId("order-1:a.b_C"));
  assert.ok(!isStreamId(""));
  assert.ok(!isStreamId("x".repeat(129)));
});

Deno.test("a browser's RTCIceCandidate JSON passes and extra fields are dropped", () => {
  const result = validateClientMessage({
    type: "webrtc-ice-candidate",
    streamId: "order-1",
    viewerId: "client_x",
    candidate: {
      candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
      usernameFragment: null,
      smuggled: "<script>",
    },
    extra: { nested: true },
  });
  assert.deepEqual(result, {
    ok: true,
    message: {
      type: "webrtc-ice-candidate",
      streamId: "order-1",
      viewerId: "client_x",
      candidate: {
        candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host",
        sdpMid: "0",
        sdpMLineIndex: 0,
        usernameFragment: null,
      },
    },
    exact: false,
  });
});

Deno.test("viewerId is optional and null counts as absent", () => {
  const result = parseClientMessage(
    '{"type":"webrtc-answer","streamId":"s","viewerId":null,"answer":{"type":"answer","sdp":"v=0"}}',
  );
  assert.deepEqual(result, {
    ok: true,
    message: {
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp: "v=0" },
    },
    exact: false,
  });
});

Deno.test("stream ids: the allowed alphabet and the length bounds", () => {
  const ok = (streamId: unknown) =>
    validateClientMessage({ type: "join-stream", streamId }).ok;
  assert.equal(ok("9c23f06d-2f69-46d6-8a81-3057e5d90a32"), true);
  assert.equal(ok("shop:42.order_7"), true);
  assert.equal(ok("x".repeat(128)), true);
  assert.equal(ok("x".repeat(129)), false);
  assert.equal(ok(""), false);
  assert.equal(ok("订单"), false);
  assert.equal(ok("a\nb"), false);
});

Deno.test("the first problem is the one reported", () => {
  const result = validateClientMessage({
    type: "webrtc-offer",
    streamId: "bad id",
    offer: 1,
  });
  assert.equal(result.ok, false);
  if (!result.ok) assert.equal(result.error.code, "invalid-stream-id");
});

Deno.test("exact: only a frame with no field beyond the message's may be forwarded as is", () => {
  const exact = (value: unknown) => {
    const result = validateClientMessage(value);
    assert.equal(result.ok, true);
    return result.ok && result.exact;
  };
  const candidate = {
    candidate: "c",
    sdpMid: "0",
    sdpMLineIndex: 0,
    usernameFragment: null,
  };
  assert.equal(
    exact({
      type: "webrtc-ice-candidate",
      streamId: "s",
      viewerId: "v",
      candidate,
    }),
    true,
  );
  assert.equal(
    exact({
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp: "v=0" },
    }),
    true,
  );
  assert.equal(
    exact({
      type: "webrtc-ice-candidate",
      streamId: "s",
      viewerId: "v",
      candidate,
      extra: 1,
    }),
    false,
  );
  assert.equal(
    exact({
      type: "webrtc-ice-candidate",
      streamId: "s",
      viewerId: null,
      candidate,
    }),
    false,
  );
  assert.equal(
    exact({
      type: "webrtc-ice-candidate",
      streamId: "s",
      candidate: { ...candidate, x: 1 },
    }),
    false,
  );
  assert.equal(
    exact({
      type: "webrtc-answer",
      streamId: "s",
      answer: { type: "answer", sdp: "v=0", x: 1 },
    }),
    false,
  );
});

Deno.test("sfu-offer and sfu-ice-candidate: checked like offers and candidates", () => {
  assert.deepEqual(
    parseClientMessage(JSON.stringify({
      type: "sfu-offer",
      streamId: "order-1",
      offer: { type: "offer", sdp: "v=0" },
      extra: 1,
    })),
    {
      ok: true,
      message: {
        type: "sfu-offer",
        streamId: "order-1",
        offer: { type: "offer", sdp: "v=0" },
      },
      exact: false,
    },
  );
  const wrongKind = parseClientMessage(JSON.stringify({
    type: "sfu-offer",
    streamId: "order-1",
    offer: { type: "answer", sdp: "v=0" },
  }));
  assert.equal(wrongKind.ok, false);
  const candidate = parseClientMessage(JSON.stringify({
    type: "sfu-ice-candidate",
    streamId: "order-1",
    candidate: { candidate: "candidate:1 1 udp 1 10.0.0.1 9 typ host" },
  }));
  assert.equal(candidate.ok && candidate.message.type, "sfu-ice-candidate");
  const missing = parseClientMessage(
    JSON.stringify({ type: "sfu-ice-candidate", streamId: "order-1" }),
  );
  assert.equal(!missing.ok && missing.error.code, "invalid-field");
});

Deno.test("viewer-loss carries two packet counts, each an integer from 0 to MAX_LOSS_PACKETS", () => {
  const loss = {
    type: "viewer-loss",
    streamId: "order-1",
    lost: 7,
    received: 63,
  };
  assert.deepEqual(parseClientMessage(JSON.stringify(loss)), {
    ok: true,
    message: loss,
    exact: true,
  });
  for (
    const bad of [
      { lost: undefined },
      { lost: -1 },
      { lost: 1.5 },
      { received: "63" },
      { received: MAX_LOSS_PACKETS + 1 },
    ]
  ) {
    const refused = parseClientMessage(JSON.stringify({ ...loss, ...bad }));
    assert.equal(
      !refused.ok && refused.error.code,
      "invalid-field",
      JSON.stringify(bad),
    );
  }
});

Deno.test("viewer-playing needs a session id; join-stream keeps overlap only when true", () => {
  assert.deepEqual(
    parseClientMessage(JSON.stringify({
      type: "viewer-playing",
      streamId: "order-1",
      session: "8163904312207410925",
    })),
    {
      ok: true,
      message: {
        type: "viewer-playing",
        streamId: "order-1",
        session: "8163904312207410925",
      },
      exact: true,
    },
  );
  for (const session of [undefined, "", "a b", 42]) {
    const refused = parseClientMessage(
      JSON.stringify({ type: "viewer-playing", streamId: "order-1", session }),
    );
    assert.equal(
      !refused.ok && refused.error.code,
      "invalid-field",
      String(session),
    );
  }
  const join = parseClientMessage(JSON.stringify({
    type: "join-stream",
    streamId: "order-1",
    overlap: true,
  }));
  assert.deepEqual(join.ok && join.message, {
    type: "join-stream",
    streamId: "order-1",
    overlap: true,
  });
  const no = parseClientMessage(JSON.stringify({
    type: "join-stream",
    streamId: "order-1",
    overlap: false,
  }));
  assert.deepEqual(no.ok && no.message, {
    type: "join-stream",
    streamId: "order-1",
  });
  const bad = parseClientMessage(JSON.stringify({
    type: "join-stream",
    streamId: "order-1",
    overlap: "yes",
  }));
  assert.equal(!bad.ok && bad.error.code, "invalid-field");
});

Deno.test("e2ee: broadcaster-ready and join-stream keep it when true; absent is absent; anything else is invalid-field", () => {
  for (const type of ["broadcaster-ready", "join-stream"]) {
    const raw = { type, streamId: "order-1", e2ee: true };
    assert.deepEqual(validateClientMessage(raw), {
      ok: true,
      message: raw,
      exact: true,
    }, type);
    const without = validateClientMessage({ type, streamId: "order-1" });
    assert.deepEqual(
      without.ok && without.message,
      { type, streamId: "order-1" },
      type,
    );
    assert.equal(without.ok && "e2ee" in without.message, false, type);
    for (const e2ee of [false, null, "true", 1, {}, []]) {
      const refused = validateClientMessage({
        type,
        streamId: "order-1",
        e2ee,
      });
      assert.deepEqual(
        !refused.ok && refused.error,
        {
          code: "invalid-field",
          message: "`e2ee` must be true or absent",
          inReplyTo: type,
        },
        `${type} ${JSON.stringify(e2ee)}`,
      );
    }
  }
  // Beside the other optional fields of a join, in any order.
  const join = parseClientMessage(JSON.stringify({
    e2ee: true,
    type: "join-stream",
    streamId: "order-1",
    token: "t",
    session: "42",
    restart: true,
    keyFrame: true,
    overlap: true,
  }));
  assert.deepEqual(join.ok && join.message, {
    type: "join-stream",
    streamId: "order-1",
    token: "t",
    session: "42",
    restart: true,
    keyFrame: true,
    overlap: true,
    e2ee: true,
  });
  // Only the join-stream and broadcaster-ready carry it: elsewhere it is an
  // extra field, dropped (and the frame is no longer forwarded as is).
  const leave = validateClientMessage({
    type: "leave-stream",
    streamId: "order-1",
    e2ee: true,
  });
  assert.deepEqual(leave, {
    ok: true,
    message: { type: "leave-stream", streamId: "order-1" },
    exact: false,
  });
});
