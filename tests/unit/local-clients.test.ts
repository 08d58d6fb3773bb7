/**
 * A local client's state (server/signaling/local-clients.ts): every event
 * from every state, which apply and where they lead; a stale connection's
 * events never touch its successor's state; grace timers end with grace.
 */
import assert from "node:assert/strict";
import {
  type ClientEvent,
  type ClientState,
  clientTransition,
  LocalClients,
} from "../../server/signaling/local-clients.ts";
import type { Peer } from "../../server/signaling/peer.ts";

const peer = (name: string) => ({ id: "client_a", name } as unknown as Peer);
const OLD = peer("old");
const NEW = peer("new");
const PLACE = { streamId: "s", role: "viewer" } as const;
const OTHER_PLACE = { streamId: "t", role: "viewer" } as const;
const TIMER = 1 as unknown as ReturnType<typeof setTimeout>;

const STATES: Record<string, ClientState | undefined> = {
  none: undefined,
  connected: { kind: "connected", peer: OLD },
  placed: { kind: "placed", peer: OLD, place: PLACE },
  "in-grace": {
    kind: "in-grace",
    peer: OLD,
    place: PLACE,
    dropped: OLD,
    timer: TIMER,
  },
  "in-grace, back on a new connection": {
    kind: "in-grace",
    peer: NEW,
    place: PLACE,
    dropped: OLD,
    timer: TIMER,
  },
};

const EVENTS: Record<string, ClientEvent> = {
  "connect (new)": { kind: "connect", peer: NEW },
  "hold (current)": { kind: "hold", peer: OLD, place: OTHER_PLACE },
  "hold (new)": { kind: "hold", peer: NEW, place: OTHER_PLACE },
  "drop (old)": { kind: "drop", peer: OLD, timer: TIMER },
  "end-grace": { kind: "end-grace" },
  release: { kind: "release" },
  "leave (old)": { kind: "leave", peer: OLD },
  "leave (new)": { kind: "leave", peer: NEW },
  forget: { kind: "forget" },
};

/** The resulting state as `kind:peer[:place stream]`, or "none". */
const show = (state: ClientState | undefined) =>
  state === undefined
    ? "none"
    : state.kind === "connected"
    ? `connected:${(state.peer as unknown as { name: string }).name}`
    : `${state.kind}:${
      (state.peer as unknown as { name: string }).name
    }:${state.place.streamId}`;

const EXPECTED: Record<string, Record<string, string>> = {
  none: {
    "connect (new)": "connected:new",
    "hold (current)": "none",
    "hold (new)": "none",
    "drop (old)": "none",
    "end-grace": "none",
    release: "none",
    "leave (old)": "none",
    "leave (new)": "none",
    forget: "none",
  },
  connected: {
    "connect (new)": "connected:new",
    "hold (current)": "placed:old:t",
    "hold (new)": "connected:old",
    // No place, no grace: the router lets it leave instead.
    "drop (old)": "connected:old",
    "end-grace": "connected:old",
    release: "connected:old",
    "leave (old)": "none",
    "leave (new)": "connected:old",
    forget: "none",
  },
  placed: {
    "connect (new)": "placed:new:s",
    "hold (current)": "placed:old:t",
    "hold (new)": "placed:old:s",
    "drop (old)": "in-grace:old:s",
    "end-grace": "placed:old:s",
    release: "connected:old",
    "leave (old)": "none",
    "leave (new)": "placed:old:s",
    forget: "none",
  },
  "in-grace": {
    "connect (new)": "in-grace:new:s",
    "hold (current)": "in-grace:old:t",
    "hold (new)": "in-grace:old:s",
    "drop (old)": "in-grace:old:s",
    "end-grace": "placed:old:s",
    release: "connected:old",
    "leave (old)": "none",
    "leave (new)": "in-grace:old:s",
    forget: "none",
  },
  "in-grace, back on a new connection": {
    "connect (new)": "in-grace:new:s",
    "hold (current)": "in-grace:new:s",
    // It resumed (the router ends grace first) or joined again.
    "hold (new)": "in-grace:new:t",
    // The stale connection's drop changes nothing.
    "drop (old)": "in-grace:new:s",
    "end-grace": "placed:new:s",
    release: "connected:new",
    // The dropped connection is gone; the new one keeps the place.
    "leave (old)": "placed:new:s",
    "leave (new)": "none",
    forget: "none",
  },
};

for (const [from, state] of Object.entries(STATES)) {
  Deno.test(`local client: every event from ${from}`, () => {
    for (const [name, event] of Object.entries(EVENTS)) {
      assert.equal(
        show(clientTransition(state, event)),
        EXPECTED[from][name],
        name,
      );
    }
  });
}

Deno.test("local clients: grace ends with its timer, however it ends; a new drop replaces it", () => {
  const clients = new LocalClients();
  let fired = 0;
  const arm = () => setTimeout(() => fired++, 0);
  clients.apply("client_a", { kind: "connect", peer: OLD });
  clients.apply("client_a", { kind: "hold", peer: OLD, place: PLACE });
  clients.apply("client_a", { kind: "drop", peer: OLD, timer: arm() });
  assert.deepEqual(clients.inGrace(), ["client_a"]);
  clients.apply("client_a", { kind: "connect", peer: NEW });
  // Its new connection drops too: one grace, the newer timer.
  const second = arm();
  clients.apply("client_a", { kind: "drop", peer: NEW, timer: second });
  clients.apply("client_a", { kind: "end-grace" });
  assert.deepEqual(clients.inGrace(), []);
  assert.equal(clients.placeOf(NEW)?.streamId, "s");
  assert.equal(clients.placeOf(OLD), undefined);
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      assert.equal(fired, 0);
      resolve();
    }, 5)
  );
});
