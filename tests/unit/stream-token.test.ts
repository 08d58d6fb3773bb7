/** The token an element sends: the attribute, or the provider's, refreshed near expiry. */
import assert from "node:assert/strict";
import {
  secondsLeft,
  StreamToken,
} from "../../components/session/stream-token.ts";

/** An unsigned JWT-shaped token with `exp` (the client reads, never verifies). */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_")
      .replaceAll("=", "");
  return `${part({ alg: "HS256" })}.${part(claims)}.signature`;
}

const NOW = Date.now();
const inSeconds = (s: number) => jwt({ exp: Math.floor(NOW / 1000) + s });

Deno.test("secondsLeft reads exp, and is undefined without one or for garbage", () => {
  const left = secondsLeft(inSeconds(100), NOW);
  assert.ok(left! > 99 && left! <= 100, String(left));
  assert.ok(secondsLeft(inSeconds(-5), NOW)! < 0);
  assert.equal(secondsLeft(jwt({ sub: "x" }), NOW), undefined);
  assert.equal(secondsLeft("not-a-jwt", NOW), undefined);
  assert.equal(secondsLeft("a.%%%.c", NOW), undefined);
});

Deno.test("without a provider: the attribute as given, or none", async () => {
  const token = new StreamToken("viewer");
  assert.equal(await token.get({ token: "abc" }, "s"), "abc");
  assert.equal(await token.get({ token: null }, "s"), undefined);
});

Deno.test("a provider is asked once while its token is good, again near expiry", async () => {
  const asked: string[] = [];
  let ttl = 3600;
  const source = {
    token: null,
    tokenProvider: ({ streamId, role }: { streamId: string; role: string }) => {
      asked.push(`${role}:${streamId}`);
      return inSeconds(ttl);
    },
  };
  const token = new StreamToken("broadcaster");
  const first = await token.get(source, "s");
  assert.equal(await token.get(source, "s"), first);
  assert.deepEqual(asked, ["broadcaster:s"]);

  // Inside the 30 s refresh margin: asked again on every use.
  token.forget();
  ttl = 20;
  await token.get(source, "s");
  await token.get(source, "s");
  assert.equal(asked.length, 3);
});

Deno.test("a token is kept for its stream: another stream asks the provider", async () => {
  const asked: string[] = [];
  const source = {
    token: null,
    tokenProvider: ({ streamId }: { streamId: string }) => {
      asked.push(streamId);
      return inSeconds(3600);
    },
  };
  const token = new StreamToken("viewer");
  await token.get(source, "a");
  await token.get(source, "b");
  await token.get(source, "b");
  assert.deepEqual(asked, ["a", "b"]);
});

Deno.test("a token without exp is reused until forgotten", async () => {
  let calls = 0;
  const source = {
    token: null,
    tokenProvider: () => {
      calls++;
      return "opaque";
    },
  };
  const token = new StreamToken("viewer");
  await token.get(source, "s");
  await token.get(source, "s");
  assert.equal(calls, 1);
  token.forget();
  await token.get(source, "s");
  assert.equal(calls, 2);
});
