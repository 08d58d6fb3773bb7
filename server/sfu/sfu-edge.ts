/**
 * A gateway's part in a cascade (VideoRoom remote publishers): as an edge,
 * a room whose publisher is the origin's, fed over plain RTP; as the
 * origin, the forwards to each edge. Functions over the gateway's own
 * state (its streams, its link), which it hands in as a context.
 */
import type { Logger } from "../observe/logger.ts";
import type { JanusSession } from "./janus-client.ts";
import type { JanusLink } from "./janus-link.ts";
import type { StreamOnSfu } from "./stream-on-sfu.ts";
import {
  addRemotePublisher,
  createRoom,
  newRoomId,
  type PublisherStream,
  publishRemotely,
  unpublishRemotely,
} from "./video-room.ts";

/** Where an origin sends a stream for an edge. */
export interface RemoteTarget {
  host: string;
  port: number;
  rtcpPort: number;
}

/** The gateway's state these steps work on. */
export interface GatewayContext {
  streams: Map<string, StreamOnSfu>;
  link: JanusLink;
  logger: Logger;
  sessionOf(stream: StreamOnSfu): Promise<JanusSession>;
  changed(streamId: string): void;
}

/**
 * As an edge: a room for `streamId` with a remote publisher carrying
 * `streams`; where the origin is to send them (this instance's host, as
 * in JANUS_URL, and the ports Janus picked).
 */
export async function hostRemote(
  cx: GatewayContext,
  streamId: string,
  streams: readonly PublisherStream[],
): Promise<RemoteTarget> {
  const { control } = await cx.link.connected();
  const stream: StreamOnSfu = {
    room: newRoomId(),
    feed: newRoomId(),
    subscribers: new Map(),
    wanted: new Map(),
    remote: true,
    up: Promise.resolve(),
  };
  cx.streams.set(streamId, stream);
  const hosting = (async () => {
    // Its session first: the record another node would claim needs it.
    await cx.sessionOf(stream);
    // Never `require_e2ee`, even for an encrypted stream: a remote
    // publisher has no e2ee flag (add_remote_publisher takes none), and
    // Janus from 1.2.4 refuses to subscribe anyone to a publisher without
    // it in such a room. The origin forwards the publisher's RTP as it
    // came, ciphertext already; only the origin's room checks the flag.
    await createRoom(control, stream.room, streamId);
    return await addRemotePublisher(
      control,
      stream.room,
      stream.feed!,
      streams,
    );
  })();
  stream.hosting = hosting;
  const ports = await hosting;
  // Ended meanwhile: end() removes what was made once it is made.
  if (cx.streams.get(streamId) !== stream) {
    throw new Error(`Stream ${streamId} ended while its edge was made`);
  }
  cx.logger.info("sfu-edge", { streamId, room: stream.room });
  cx.changed(streamId);
  return {
    host: new URL(cx.link.url).hostname.replace(/^\[|\]$/g, ""),
    ...ports,
  };
}

/** As the origin: the publisher's streams, once Janus described them. */
export async function publisherStreams(
  cx: GatewayContext,
  streamId: string,
): Promise<PublisherStream[]> {
  const stream = cx.streams.get(streamId);
  await stream?.up;
  if (!stream?.streams?.length) {
    throw new Error(`Stream ${streamId} has no publisher to forward`);
  }
  return stream.streams;
}

/** As the origin: sends the stream's publisher on to an edge too. */
export async function forward(
  cx: GatewayContext,
  streamId: string,
  remoteId: string,
  to: RemoteTarget,
): Promise<void> {
  const { control } = await cx.link.connected();
  const stream = cx.streams.get(streamId);
  if (stream?.feed === undefined) {
    throw new Error(`Stream ${streamId} is not published here`);
  }
  await stream.up;
  await publishRemotely(control, {
    room: stream.room,
    feed: stream.feed,
    remoteId,
    ...to,
  });
}

/** As the origin: stops sending the stream to that edge. */
export async function unforward(
  cx: GatewayContext,
  streamId: string,
  remoteId: string,
): Promise<void> {
  const stream = cx.streams.get(streamId);
  const link = await cx.link.current();
  if (stream?.feed === undefined || !link) return;
  await unpublishRemotely(link.control, stream.room, stream.feed, remoteId);
}
