/**
 * Property: after any sequence of joins, announces, leaves and drops, the
 * server's registry equals a simple reference model, and holds nothing for
 * streams with no one in them.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { TestClient } from "./support/test-client.ts";
import {
  applyToModel,
  MAX_VIEWERS,
  type MemberOp,
  type Model,
  STREAMS,
} from "./support/membership-model.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const CLIENTS = 5;

type Op =
  | { kind: "broadcast" | "join" | "leave"; client: number; stream: string }
  | { kind: "drop" | "reconnect"; client: number };

function op(): fc.Arbitrary<Op> {
  const client = fc.nat(CLIENTS - 1);
  const stream = fc.constantFrom(...STREAMS);
  return fc.oneof(
    fc.record({
      kind: fc.constantFrom("broadcast", "join", "leave") as fc.Arbitrary<
        "broadcast" | "join" | "leave"
      >,
      client,
      stream,
    }),
    fc.record({
      kind: fc.constantFrom("drop", "reconnect") as fc.Arbitrary<
        "drop" | "reconnect"
      >,
      client,
    }),
  );
}

/** A step as the shared model sees it: dropped or reconnected is gone. */
function asMemberOp(op: Op): MemberOp {
  switch (op.kind) {
    case "drop":
    case "reconnect":
      return { kind: "gone", client: op.client };
    default:
      return op;
  }
}

async function applyToServer(
  t: TestServer,
  clients: (TestClient | undefined)[],
  op: Op,
): Promise<void> {
  const client = clients[op.client];
  switch (op.kind) {
    case "broadcast":
    case "join":
    case "leave":
      if (!client) return;
      client.send({
        type: op.kind === "broadcast"
          ? "broadcaster-ready"
          : op.kind === "join"
          ? "join-stream"
          : "leave-stream",
        streamId: op.stream,
      });
      await client.sync();
      return;
    case "drop":
    case "reconnect":
      if (client) {
        await client.close();
        await t.closedOnServer(client.id);
      }
      clients[op.client] = op.kind === "reconnect"
        ? await t.connect()
        : undefined;
  }
}

function assertMatches(
  t: TestServer,
  clients: (TestClient | undefined)[],
  model: Model,
) {
  const { registry } = t.server;
  clients.forEach((client, i) => {
    if (!client) return;
    const actual = registry.membershipOf(client.id);
    const expected = model.get(i);
    assert.deepEqual(
      actual && { role: actual.role, stream: actual.room.streamId },
      expected,
      `client ${i}`,
    );
  });
  const occupied = new Set([...model.values()].map((m) => m.stream));
  assert.equal(registry.roomCount, occupied.size);
  assert.equal(registry.memberCount, model.size);
  for (const stream of STREAMS) {
    assert.equal(
      registry.room(stream) !== undefined,
      occupied.has(stream),
      stream,
    );
  }
}

Deno.test("the registry follows the model through any sequence and ends empty", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op(), { minLength: 1, maxLength: 40 }),
      async (ops) => {
        // A server per run, so a failing run cannot leak into the shrunk ones.
        await using t = await startTestServer(
          { maxViewersPerStream: MAX_VIEWERS },
          "error",
        );
        const clients: (TestClient | undefined)[] = [];
        for (let i = 0; i < CLIENTS; i++) clients.push(await t.connect());
        const model: Model = new Map();
        for (const step of ops) {
          const present = clients[step.client] !== undefined;
          await applyToServer(t, clients, step);
          if (present) applyToModel(model, asMemberOp(step));
          assertMatches(t, clients, model);
        }
        for (const client of clients) {
          if (!client) continue;
          await client.close();
          await t.closedOnServer(client.id);
        }
        assert.equal(t.server.connections.size, 0);
        assert.equal(t.server.registry.roomCount, 0);
        assert.equal(t.server.registry.memberCount, 0);
      },
    ),
    { numRuns: 60 },
  );
});
