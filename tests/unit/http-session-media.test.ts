/**
 * A WHIP or WHEP session's media (server/http/session-endpoint.ts): ended when Janus
 * hangs its handle up, or when its media is not up by
 * MEDIA_CONNECT_TIMEOUT_MS; kept once it is. A router stand-in answers the
 * POST; time is a fake clock. With Janus: tests/e2e/whip-http.test.ts.
 */
import assert from "node:assert/strict";
import { fakeClock } from "./support/clock.ts";
import {
  MEDIA_TIMEOUT_MS as TIMEOUT_MS,
  whipEndpoint,
} from "./support/fake-session-host.ts";

const setUp = (janusAnswers = true) => {
  const fake = whipEndpoint({ janusAnswers });
  return {
    ...fake,
    post: async () => (await fake.post()).location,
    request: () => fake.request(),
  };
};

Deno.test("a session whose media is not up by MEDIA_CONNECT_TIMEOUT_MS ends; one whose media came up stays", async () => {
  using clock = fakeClock();
  const { endpoint, left, post, deleted } = setUp();
  const silent = await post();
  clock.tick(TIMEOUT_MS - 1);
  assert.deepEqual(left, []);
  clock.tick(1);
  assert.deepEqual(left, [["client_1", "whip-media-timeout"]]);
  assert.equal(await deleted(silent), 404);

  const connected = await post();
  endpoint.media({
    streamId: "s",
    viewerId: undefined,
    clientId: "client_2",
    up: true,
  });
  clock.tick(TIMEOUT_MS * 10);
  assert.equal(left.length, 1);
  assert.equal(endpoint.size, 1);
  assert.equal(await deleted(connected), 200);
  assert.deepEqual(left.at(-1), ["client_2", "whip-delete"]);
});

Deno.test("Janus hanging up a session's handle ends it; another publisher's, another stream's or a viewer's hangup does not", async () => {
  using _clock = fakeClock();
  const { endpoint, left, post, deleted } = setUp();
  const location = await post();
  const publisher = {
    streamId: "s",
    viewerId: undefined,
    clientId: "client_1",
  };
  endpoint.media({ ...publisher, up: true });
  // A WebSocket broadcaster of the same stream, the same id on another
  // stream, a viewer with the session's id: none is this session.
  endpoint.media({ ...publisher, clientId: "client_ws", up: false });
  endpoint.media({ ...publisher, streamId: "other", up: false });
  endpoint.media({ ...publisher, viewerId: "client_1", up: false });
  assert.deepEqual(left, []);
  endpoint.media({ ...publisher, up: false, reason: "ICE failed" });
  assert.deepEqual(left, [["client_1", "whip-hangup"]]);
  assert.equal(await deleted(location), 404);
});

Deno.test("a session Janus hangs up before it answered: its POST hears 503 at once, not at the answer timeout", async () => {
  using _clock = fakeClock();
  const { endpoint, left, request, entered } = setUp(false);
  const pending = request();
  // Its publish is under way: Janus hangs the handle up.
  await entered;
  endpoint.media({
    streamId: "s",
    viewerId: undefined,
    clientId: "client_1",
    up: false,
  });
  const response = await pending;
  assert.equal(response.status, 503);
  assert.equal((await response.json()).error, "sfu-unavailable");
  assert.deepEqual(left, [["client_1", "whip-hangup"]]);
});

Deno.test("an ICE restart while its media is still not up gives it a new MEDIA_CONNECT_TIMEOUT_MS; once up, a restart sets no deadline", async () => {
  using clock = fakeClock();
  const fake = whipEndpoint();
  const { location } = await fake.post();
  const restart = (ufrag: string) =>
    fake.patch(
      location,
      `a=ice-ufrag:${ufrag}\r\na=ice-pwd:newpasswordnewpassword12\r\n`,
      { "if-match": "*" },
    );
  clock.tick(TIMEOUT_MS - 1);
  assert.equal((await restart("new1")).status, 200);
  clock.tick(TIMEOUT_MS - 1);
  assert.deepEqual(fake.left, []);
  clock.tick(1);
  assert.deepEqual(fake.left, [["client_1", "whip-media-timeout"]]);

  const second = await fake.post();
  fake.endpoint.media({
    streamId: "s",
    viewerId: undefined,
    clientId: "client_2",
    up: true,
  });
  const restarted = await fake.patch(
    second.location,
    "a=ice-ufrag:new2\r\na=ice-pwd:newpasswordnewpassword12\r\n",
    { "if-match": "*" },
  );
  assert.equal(restarted.status, 200);
  clock.tick(TIMEOUT_MS * 10);
  assert.equal(fake.endpoint.size, 1);
});
