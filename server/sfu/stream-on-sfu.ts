/**
 * What one Janus instance holds for one stream (its session, room, feed and
 * handles), and that as plain JSON: the record another node needs to claim
 * the session and drive the same handles (the browsers notice nothing).
 */
import type { JanusHandle, JanusSession } from "./janus-client.ts";
import type { PublisherStream } from "./video-room.ts";

export interface StreamOnSfu {
  room: number;
  /**
   * The stream's own session: a claim moves a whole session, so a stream
   * handed to another node takes exactly its own handles with it.
   */
  session?: Promise<JanusSession>;
  publisher?: JanusHandle;
  /** The publisher's feed id, once Janus answered its offer. */
  feed?: number;
  /**
   * Settles once the publisher's connection to Janus is up: before that
   * Janus has no feed to subscribe to (error 428).
   */
  up?: Promise<void>;
  subscribers: Map<string, Subscriber>;
  /** The publisher's streams, as Janus described them (origin only). */
  streams?: PublisherStream[];
  /** On this instance as a remote publisher fed by the origin (an edge). */
  remote?: boolean;
  /** An edge's room and remote publisher, being made (end waits for it). */
  hosting?: Promise<unknown>;
  /** The subscription each viewer asked for last (unsubscribe cancels it). */
  wanted: Map<string, object>;
  /**
   * Its room requires end-to-end encrypted media, and its publisher said it
   * is (origin only: an edge's remote publisher has no such flag).
   */
  e2ee?: true;
  /** end() ran (not a release: then another node drives its session). */
  ended?: true;
}

export interface Subscriber {
  handle: JanusHandle;
  /** Its video's `mid`, for choosing its simulcast layer. */
  videoMid?: string;
}

/** A stream's part on one instance, as JSON (ids Janus gave). */
export interface StreamRecord {
  session: number;
  room: number;
  feed?: number;
  publisher?: number;
  streams?: PublisherStream[];
  remote?: boolean;
  e2ee?: true;
  subscribers: Record<string, { handle: number; videoMid?: string }>;
}

/** The record of `stream`, once its session exists. */
export async function recordOf(
  stream: StreamOnSfu,
): Promise<StreamRecord | undefined> {
  const session = await stream.session?.catch(() => undefined);
  if (!session) return undefined;
  const subscribers: StreamRecord["subscribers"] = {};
  for (const [viewerId, { handle, videoMid }] of stream.subscribers) {
    subscribers[viewerId] = {
      handle: handle.id,
      ...(videoMid !== undefined ? { videoMid } : {}),
    };
  }
  return {
    session: session.id,
    room: stream.room,
    ...(stream.feed !== undefined ? { feed: stream.feed } : {}),
    ...(stream.publisher ? { publisher: stream.publisher.id } : {}),
    ...(stream.streams ? { streams: stream.streams } : {}),
    ...(stream.remote ? { remote: true } : {}),
    ...(stream.e2ee ? { e2ee: true } : {}),
    subscribers,
  };
}

/** A stream rebuilt around a claimed `session` from its record. */
export function streamFrom(
  session: JanusSession,
  record: StreamRecord,
): StreamOnSfu {
  const subscribers = new Map<string, Subscriber>();
  for (
    const [viewerId, { handle, videoMid }] of Object.entries(record.subscribers)
  ) {
    subscribers.set(viewerId, {
      handle: session.adopt(handle),
      ...(videoMid !== undefined ? { videoMid } : {}),
    });
  }
  return {
    room: record.room,
    session: Promise.resolve(session),
    ...(record.publisher !== undefined
      ? { publisher: session.adopt(record.publisher) }
      : {}),
    ...(record.feed !== undefined ? { feed: record.feed } : {}),
    // Its connection was up when the record was made, or Janus retries 428.
    up: Promise.resolve(),
    subscribers,
    ...(record.streams ? { streams: record.streams } : {}),
    ...(record.remote ? { remote: true } : {}),
    ...(record.e2ee ? { e2ee: true } : {}),
    wanted: new Map(),
  };
}

/** Every handle of `stream` (to detach, or to let go of). */
export function handlesOf(stream: StreamOnSfu): JanusHandle[] {
  return [
    ...(stream.publisher ? [stream.publisher] : []),
    ...[...stream.subscribers.values()].map(({ handle }) => handle),
  ];
}
