/**
 * The membership rules written the simplest way, for the model-based
 * property tests: one node in memory (registry-model.property.test.ts) and
 * several nodes on Redis (cluster-model.property.test.ts) check the server
 * against this same model.
 */
export const STREAMS = ["a", "b", "c"];
export const MAX_VIEWERS = 2;

export type Role = "broadcaster" | "viewer";

/** Each client's place, by client number. */
export type Model = Map<number, { role: Role; stream: string }>;

export type MemberOp =
  | { kind: "broadcast" | "join" | "leave"; client: number; stream: string }
  /** The client's socket closes (a goodbye), or it dies with its node. */
  | { kind: "gone"; client: number };

export function applyToModel(model: Model, op: MemberOp): void {
  const mine = model.get(op.client);
  switch (op.kind) {
    case "broadcast": {
      const taken = [...model].some(([id, m]) =>
        id !== op.client && m.role === "broadcaster" && m.stream === op.stream
      );
      if (!taken) {
        model.set(op.client, { role: "broadcaster", stream: op.stream });
      }
      return;
    }
    case "join": {
      const again = mine?.role === "viewer" && mine.stream === op.stream;
      const viewers =
        [...model.values()].filter((m) =>
          m.role === "viewer" && m.stream === op.stream
        ).length;
      if (again || viewers < MAX_VIEWERS) {
        model.set(op.client, { role: "viewer", stream: op.stream });
      }
      return;
    }
    case "leave":
      if (mine?.stream === op.stream) model.delete(op.client);
      return;
    case "gone":
      model.delete(op.client);
  }
}

/** Streams someone is in, and how many viewers each has. */
export function occupancy(model: Model): {
  occupied: Set<string>;
  viewers: Map<string, number>;
} {
  const occupied = new Set<string>();
  const viewers = new Map<string, number>();
  for (const { role, stream } of model.values()) {
    occupied.add(stream);
    if (role === "viewer") viewers.set(stream, (viewers.get(stream) ?? 0) + 1);
  }
  return { occupied, viewers };
}
