/**
 * Property: after any sequence of announces, joins, leaves, drops,
 * reconnections to other nodes and node deaths, what a real Redis holds
 * equals a simple reference model, and nothing for streams with no one in
 * them. The same rules as registry-model.property.test.ts (one node, in
 * memory), here across three nodes sharing Redis.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { startClusterNodes } from "./support/cluster-nodes.ts";
import { RedisProcess } from "./support/redis-process.ts";
import type { TestClient } from "./support/test-client.ts";
import type { TestServer } from "./support/test-server.ts";
import {
  applyToModel,
  MAX_VIEWERS,
  type Model,
  occupancy,
  STREAMS,
} from "./support/membership-model.ts";

const NODES = 3;
const CLIENTS = 5;

type Op =
  | { kind: "broadcast" | "join" | "leave"; client: number; stream: string }
  | { kind: "drop"; client: number }
  | { kind: "reconnect"; client: number; node: number }
  | { kind: "kill"; node: number };

function op(): fc.Arbitrary<Op> {
  const client = fc.nat(CLIENTS - 1);
  const stream = fc.constantFrom(...STREAMS);
  const node = fc.nat(NODES - 1);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constantFrom("broadcast", "join", "leave") as fc.Arbitrary<
          "broadcast" | "join" | "leave"
        >,
        client,
        stream,
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("drop"), client }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("reconnect"), client, node }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("kill"), node }) },
  ) as fc.Arbitrary<Op>;
}

interface World {
  nodes: (TestServer | undefined)[];
  clients: ({ client: TestClient; node: number } | undefined)[];
}

/** A live node to stand in for `wanted` if that one is dead. */
function liveNode(world: World, wanted: number): number {
  for (let i = 0; i < NODES; i++) {
    const index = (wanted + i) % NODES;
    if (world.nodes[index]) return index;
  }
  throw new Error("no node alive");
}

async function applyToCluster(world: World, op: Op): Promise<void> {
  if (op.kind === "kill") {
    const node = world.nodes[op.node]!;
    world.nodes[op.node] = undefined;
    const dead = node.server.cluster!.node;
    const survivors = world.nodes.filter((n) => n !== undefined);
    // Noticed by a survivor's reaper: wait for that event, not for time.
    const reaped = Promise.any(
      survivors.map((n) =>
        new Promise<void>((resolve) => {
          const listener = (event: Event) => {
            if (!(event as CustomEvent<string[]>).detail.includes(dead)) return;
            n.server.cluster!.events.removeEventListener("reaped", listener);
            resolve();
          };
          n.server.cluster!.events.addEventListener("reaped", listener);
        })
      ),
    );
    // Dies without a goodbye: Redis hears nothing, its sockets just close.
    await node.server.cluster!.stop();
    await node.server.shutdown();
    world.clients.forEach((entry, i) => {
      if (entry?.node === op.node) world.clients[i] = undefined;
    });
    await reaped;
    return;
  }
  const entry = world.clients[op.client];
  const node = entry && world.nodes[entry.node];
  switch (op.kind) {
    case "broadcast":
    case "join":
    case "leave":
      if (!entry) return;
      entry.client.send({
        type: op.kind === "broadcast"
          ? "broadcaster-ready"
          : op.kind === "join"
          ? "join-stream"
          : "leave-stream",
        streamId: op.stream,
      });
      await entry.client.sync();
      return;
    case "drop":
    case "reconnect":
      if (entry && node) {
        await entry.client.close();
        await node.closedOnServer(entry.client.id);
        await node.server.cluster!.barrier();
      }
      if (op.kind === "drop") {
        world.clients[op.client] = undefined;
      } else {
        const index = liveNode(world, op.node);
        world.clients[op.client] = {
          client: await world.nodes[index]!.connect(),
          node: index,
        };
      }
  }
}

/** Redis, read directly, against the model. */
async function assertMatches(
  redis: RedisProcess,
  world: World,
  model: Model,
): Promise<void> {
  const inspector = redis.inspector;
  for (const [i, entry] of world.clients.entries()) {
    if (!entry) continue;
    const [stream, role] = await inspector.hmget(
      `lw:c:${entry.client.id}`,
      "s",
      "r",
    );
    const actual = stream
      ? { role: role === "b" ? "broadcaster" : "viewer", stream }
      : undefined;
    assert.deepEqual(actual, model.get(i), `client ${i}`);
  }
  const members = await inspector.keys("lw:c:*");
  assert.equal(members.length, model.size, "member keys");
  const { viewers } = occupancy(model);
  const expected = new Set<string>();
  for (const { role, stream } of model.values()) {
    expected.add(role === "broadcaster" ? `lw:s:${stream}` : `lw:v:${stream}`);
  }
  const rooms = [
    ...await inspector.keys("lw:s:*"),
    ...await inspector.keys("lw:v:*"),
  ];
  assert.deepEqual(rooms.sort(), [...expected].sort(), "room keys");
  for (const stream of STREAMS) {
    assert.equal(
      await inspector.hlen(`lw:v:${stream}`),
      viewers.get(stream) ?? 0,
      stream,
    );
  }
}

Deno.test("cluster: Redis follows the model through any sequence across nodes and ends empty", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op(), { minLength: 1, maxLength: 30 }),
      async (ops) => {
        // A fresh Redis and nodes per run: a failing run cannot leak into
        // the shrunk ones.
        await using redis = await RedisProcess.start();
        const started = await startClusterNodes(redis, NODES, {
          maxViewersPerStream: MAX_VIEWERS,
          nodeTtlMs: 300,
        });
        const world: World = { nodes: [...started], clients: [] };
        try {
          for (let i = 0; i < CLIENTS; i++) {
            world.clients.push({
              client: await started[i % NODES].connect(),
              node: i % NODES,
            });
          }
          const model: Model = new Map();
          for (const step of ops) {
            if (step.kind === "kill") {
              const alive = world.nodes.filter((n) => n).length;
              if (!world.nodes[step.node] || alive === 1) continue;
              const onDead = world.clients.flatMap((entry, i) =>
                entry?.node === step.node ? [i] : []
              );
              await applyToCluster(world, step);
              for (const client of onDead) {
                applyToModel(model, { kind: "gone", client });
              }
            } else {
              const present = world.clients[step.client] !== undefined;
              await applyToCluster(world, step);
              if (present) {
                applyToModel(
                  model,
                  step.kind === "drop" || step.kind === "reconnect"
                    ? { kind: "gone", client: step.client }
                    : step,
                );
              }
            }
            await assertMatches(redis, world, model);
          }
          for (const [i, entry] of world.clients.entries()) {
            if (!entry) continue;
            await entry.client.close();
            await world.nodes[entry.node]!.closedOnServer(entry.client.id);
            world.clients[i] = undefined;
          }
          await Promise.all(
            world.nodes.map((n) => n?.server.cluster?.barrier()),
          );
          assert.deepEqual(
            (await redis.keys()).filter((key) => /^lw:[csvm]:/.test(key)),
            [],
          );
        } finally {
          await Promise.all(
            world.nodes.map((n) => n?.[Symbol.asyncDispose]()),
          );
        }
      },
    ),
    { numRuns: 40 },
  );
});
