/**
 * The Janus VideoRoom requests the server uses, over one plugin handle each:
 * a room per stream, one publisher (the broadcaster), one subscriber handle
 * per viewer (Janus 1.x multistream API).
 */
import { JanusError, type JanusHandle } from "./janus-client.ts";

export interface Jsep {
  type: "offer" | "answer";
  sdp: string;
}

/** VideoRoom error: the room exists already. */
const ROOM_EXISTS = 427;
/** VideoRoom error: no such room. */
const NO_SUCH_ROOM = 426;

/** A room id Janus accepts (numeric ids; a random one per stream). */
export function newRoomId(): number {
  return (crypto.getRandomValues(new Uint32Array(1))[0] & 0x7fffffff) || 1;
}

/**
 * Creates room `room` for one publisher; an existing one is fine.
 * `requireE2ee`: the room takes only a publisher whose media is end-to-end
 * encrypted ({@link publish} with `e2ee`), and says so (VideoRoom's
 * `require_e2ee`; it cannot be changed later).
 */
export async function createRoom(
  handle: JanusHandle,
  room: number,
  description: string,
  requireE2ee = false,
): Promise<void> {
  try {
    await handle.message({
      request: "create",
      room,
      description: description.slice(0, 64),
      publishers: 1,
      // Simulcast layers are chosen per subscriber; no cap on the publisher.
      bitrate: 0,
      videocodec: "vp8,h264,vp9",
      audiocodec: "opus",
      notify_joining: false,
      ...(requireE2ee ? { require_e2ee: true } : {}),
    });
  } catch (error) {
    if (!(error instanceof JanusError && error.code === ROOM_EXISTS)) {
      throw error;
    }
  }
}

/** Destroys room `room`; one already gone is fine. */
export async function destroyRoom(
  handle: JanusHandle,
  room: number,
): Promise<void> {
  try {
    await handle.message({ request: "destroy", room });
  } catch (error) {
    if (!(error instanceof JanusError && error.code === NO_SUCH_ROOM)) {
      throw error;
    }
  }
}

/** A publisher's stream as Janus describes it (for a remote publisher). */
export interface PublisherStream {
  type: string;
  mindex: number;
  mid: string;
  codec?: string;
  fec?: boolean;
  stereo?: boolean;
  dtx?: boolean;
  simulcast?: boolean;
}

/**
 * Joins `room` as its publisher with `offer`; Janus's answer, the feed id
 * and its streams (what an edge instance needs to carry it). `e2ee`: its
 * media is end-to-end encrypted, said where VideoRoom reads it, in the
 * jsep (not the body); a room that requires it refuses a publisher
 * without it (error 433).
 */
export async function publish(
  handle: JanusHandle,
  room: number,
  offer: Jsep,
  display: string,
  e2ee = false,
): Promise<{ answer: Jsep; feed: number; streams: PublisherStream[] }> {
  const reply = await handle.message({
    request: "joinandconfigure",
    room,
    ptype: "publisher",
    display: display.slice(0, 64),
    audio: true,
    video: true,
  }, e2ee ? { ...offer, e2ee: true } : offer);
  if (!reply.jsep || typeof reply.data.id !== "number") {
    throw new Error("Janus did not answer the publisher's offer");
  }
  const streams = ((reply.data.streams ?? []) as PublisherStream[])
    .map(({ type, mindex, mid, codec, fec, stereo, dtx, simulcast }) => ({
      type,
      mindex,
      mid,
      ...(codec === undefined ? {} : { codec }),
      ...(fec === undefined ? {} : { fec }),
      ...(stereo === undefined ? {} : { stereo }),
      ...(dtx === undefined ? {} : { dtx }),
      ...(simulcast === undefined ? {} : { simulcast }),
    }))
    .sort((a, b) => a.mindex - b.mindex);
  return { answer: reply.jsep, feed: reply.data.id, streams };
}

/**
 * On an edge instance: a remote publisher `id` in `room` carrying
 * `streams` (every stream of the origin's publisher, in its mindex order:
 * the edge tells them apart by position). Janus picks the ports it
 * receives on. (h264/vp9 profiles are left out: 1.1.2 takes them as
 * booleans and refuses the strings its publisher replies carry.)
 */
export async function addRemotePublisher(
  handle: JanusHandle,
  room: number,
  id: number,
  streams: readonly PublisherStream[],
): Promise<{ port: number; rtcpPort: number }> {
  const reply = await handle.message({
    request: "add_remote_publisher",
    room,
    id,
    display: "cascade",
    streams,
  });
  const { port, rtcp_port } = reply.data;
  if (typeof port !== "number" || typeof rtcp_port !== "number") {
    throw new Error("Janus gave the remote publisher no ports");
  }
  return { port, rtcpPort: rtcp_port };
}

/** On an edge instance: the remote publisher `id` goes (before its room). */
export async function removeRemotePublisher(
  handle: JanusHandle,
  room: number,
  id: number,
): Promise<void> {
  await handle.message({ request: "remove_remote_publisher", room, id });
}

/**
 * On the origin instance: forwards publisher `feed` of `room` to an edge's
 * remote publisher at `host`:`port` (one port carries every stream and
 * layer); `rtcpPort` carries the edge's keyframe requests back.
 */
export async function publishRemotely(
  handle: JanusHandle,
  forward: {
    room: number;
    feed: number;
    remoteId: string;
    host: string;
    port: number;
    rtcpPort: number;
  },
): Promise<void> {
  await handle.message({
    request: "publish_remotely",
    room: forward.room,
    publisher_id: forward.feed,
    remote_id: forward.remoteId,
    host: forward.host,
    host_family: forward.host.includes(":") ? "ipv6" : "ipv4",
    port: forward.port,
    rtcp_port: forward.rtcpPort,
  });
}

/** On the origin instance: stops forwarding `feed` to `remoteId`. */
export async function unpublishRemotely(
  handle: JanusHandle,
  room: number,
  feed: number,
  remoteId: string,
): Promise<void> {
  await handle.message({
    request: "unpublish_remotely",
    room,
    publisher_id: feed,
    remote_id: remoteId,
  });
}

/**
 * Subscribes to `feed` in `room`: Janus's offer for the viewer, and the
 * `mid` of its video (to choose its simulcast layer later).
 */
export async function subscribe(
  handle: JanusHandle,
  room: number,
  feed: number,
): Promise<{ offer: Jsep; videoMid?: string }> {
  const reply = await handle.message({
    request: "join",
    room,
    ptype: "subscriber",
    streams: [{ feed }],
  });
  if (!reply.jsep) throw new Error("Janus sent no offer for the subscriber");
  const streams = (reply.data.streams ?? []) as {
    type?: string;
    mid?: string;
  }[];
  const video = streams.find((stream) => stream.type === "video");
  return { offer: reply.jsep, videoMid: video?.mid };
}

/** Sends the subscriber simulcast layer `substream` (0 the smallest) of its video. */
export async function setSubstream(
  handle: JanusHandle,
  mid: string,
  substream: number,
): Promise<void> {
  await handle.message({ request: "configure", streams: [{ mid, substream }] });
}

/** Asks the publisher of `handle` for a keyframe (Janus sends it a PLI). */
export async function requestKeyframe(handle: JanusHandle): Promise<void> {
  await handle.message({ request: "configure", keyframe: true });
}

/** Hands Janus the viewer's answer: the subscription starts. */
export async function start(handle: JanusHandle, answer: Jsep): Promise<void> {
  await handle.message({ request: "start" }, answer);
}

/**
 * An ICE restart of the publisher: its offer with new ICE credentials, as
 * a `configure`; Janus's answer (with its own new credentials).
 */
export async function restartPublisher(
  handle: JanusHandle,
  offer: Jsep,
): Promise<Jsep> {
  const reply = await handle.message({ request: "configure" }, offer);
  if (!reply.jsep) throw new Error("Janus did not answer the ICE restart");
  return reply.jsep;
}

/** An ICE restart of a subscriber: Janus's new offer (new credentials). */
export async function restartSubscriber(handle: JanusHandle): Promise<Jsep> {
  const reply = await handle.message({ request: "configure", restart: true });
  if (!reply.jsep) throw new Error("Janus sent no offer for the ICE restart");
  return reply.jsep;
}

/** VideoRoom error: no such feed (yet). */
const NO_SUCH_FEED = 428;

/**
 * Subscribes, asking again for a moment when the feed is not there yet: an
 * edge's remote publisher joins its room just after Janus said it exists.
 */
export async function subscribeSoon(
  handle: JanusHandle,
  room: number,
  feed: number,
): ReturnType<typeof subscribe> {
  for (let attempt = 0;; attempt++) {
    try {
      return await subscribe(handle, room, feed);
    } catch (error) {
      if (
        !(error instanceof JanusError && error.code === NO_SUCH_FEED) ||
        attempt >= 10
      ) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
