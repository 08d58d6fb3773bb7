/**
 * This server's use of one Janus instance: a link, a session per stream
 * (another node can claim it: stream-on-sfu.ts), a room per stream (its
 * publisher's, or as an edge a remote publisher's), a subscriber handle per
 * viewer. It knows Janus, not the protocol: sfu-pool.ts and the
 * relay decide what goes where.
 */
import type { Logger } from "../observe/logger.ts";
import { watchMedia, watchSlowlink, watchSubstream } from "./handle-events.ts";
import {
  handlesOf,
  recordOf,
  streamFrom,
  type StreamOnSfu,
  type StreamRecord,
  type Subscriber,
} from "./stream-on-sfu.ts";
import type { JanusHandle, JanusSession } from "./janus-client.ts";
import { JanusLink } from "./janus-link.ts";
import {
  forward,
  type GatewayContext,
  hostRemote,
  publisherStreams,
  type RemoteTarget,
  unforward,
} from "./sfu-edge.ts";
import {
  createRoom,
  destroyRoom,
  type Jsep,
  newRoomId,
  publish,
  type PublisherStream,
  removeRemotePublisher,
  requestKeyframe,
  restartPublisher,
  restartSubscriber,
  setSubstream,
  start,
  subscribeSoon,
} from "./video-room.ts";

const VIDEOROOM = "janus.plugin.videoroom";

export type { MediaEvent } from "./handle-events.ts";

export class SfuGateway {
  /**
   * Fires `down` (the link closed; the streams it had as detail), `up`,
   * `changed` (a stream's record did: its id as detail), and
   * handle-events.ts's `slowlink`, `substream` and `media`.
   */
  readonly events = new EventTarget();
  #logger: Logger;
  #link: JanusLink;
  #streams = new Map<string, StreamOnSfu>();
  /** What sfu-edge.ts's steps work on. */
  #context: GatewayContext;

  constructor(url: string, logger: Logger) {
    this.#logger = logger;
    this.#link = new JanusLink(url, logger);
    this.#context = {
      streams: this.#streams,
      link: this.#link,
      logger,
      sessionOf: (stream) => this.#sessionOf(stream),
      changed: (streamId) => this.#changed(streamId),
    };
    this.#link.events.addEventListener("up", () => {
      this.events.dispatchEvent(new Event("up"));
    });
    this.#link.events.addEventListener("down", () => {
      const lost = [...this.#streams.keys()];
      this.#streams.clear();
      this.#logger.warn("sfu-down", { streams: lost.length });
      this.events.dispatchEvent(new CustomEvent("down", { detail: lost }));
    });
  }

  /** Whether Janus is linked now: streams go to the SFU only then. */
  get up(): boolean {
    return this.#link.up;
  }

  /** Janus's WebSocket API, as configured. */
  get url(): string {
    return this.#link.url;
  }

  /** Its work now: streams published on it plus their subscriptions. */
  get load(): number {
    return [...this.#streams.values()]
      .reduce((load, stream) => load + 1 + stream.subscribers.size, 0);
  }

  /** Links to Janus now, and again whenever the link is lost. */
  start(): void {
    this.#link.connected().catch(() => {});
  }

  /**
   * The broadcaster's offer to Janus (a room made if needed): Janus's
   * answer. `publisherId` is the broadcaster's client id, named in its
   * `media` events. `e2ee`: its media is end-to-end encrypted, in a room
   * that requires it.
   */
  async publish(
    streamId: string,
    offer: Jsep,
    publisherId?: string,
    e2ee = false,
  ): Promise<Jsep> {
    const { control } = await this.#link.connected();
    let stream = this.#streams.get(streamId);
    // A room requires E2EE or not for good (VideoRoom's `edit` cannot
    // change it): a stream that turned it on or off gets a new room.
    if (stream && (stream.e2ee === true) !== e2ee) {
      await this.end(streamId);
      stream = undefined;
    }
    if (!stream) {
      stream = { room: newRoomId(), subscribers: new Map(), wanted: new Map() };
      if (e2ee) stream.e2ee = true;
      this.#streams.set(streamId, stream);
    }
    // The stream may end at each wait: what this publish made then is
    // undone here, since end() did not find it. Released (another node
    // drives its session now) or gone with the link: only given up.
    const ended = async () => {
      if (this.#streams.get(streamId) === stream) return;
      if (stream.ended) {
        await stream.publisher?.detach().catch(() => {});
        const session = await stream.session?.catch(() => undefined);
        await session?.destroy().catch(() => {});
        await destroyRoom(control, stream.room).catch(() => {});
      }
      throw new Error(`Stream ${streamId} ended while being published`);
    };
    await createRoom(control, stream.room, streamId, e2ee);
    await ended();
    // A new publish replaces the old one (the broadcaster reconnected).
    await stream.publisher?.detach().catch(() => {});
    stream.feed = undefined;
    const session = await this.#sessionOf(stream);
    await ended();
    const handle = await session.attach(VIDEOROOM);
    stream.publisher = handle;
    await ended();
    this.#watchPublisher(streamId, handle, publisherId);
    // Janus has the feed once the publisher's connection is up
    // (`webrtcup`); a subscriber before that gets "no such feed" (428).
    stream.up = new Promise((resolve) =>
      handle.events.addEventListener("webrtcup", () => resolve(), {
        once: true,
      })
    );
    const { answer, feed, streams } = await publish(
      handle,
      stream.room,
      offer,
      streamId,
      e2ee,
    );
    await ended();
    stream.feed = feed;
    stream.streams = streams;
    this.#logger.info("sfu-published", { streamId, room: stream.room, feed });
    this.#changed(streamId);
    return answer;
  }

  /**
   * Subscribes `viewerId` to the stream's feed, once the publisher's
   * connection is up: Janus's offer for the viewer.
   */
  async subscribe(streamId: string, viewerId: string): Promise<Jsep> {
    await this.#link.connected();
    const stream = this.#streams.get(streamId);
    if (stream?.feed === undefined) {
      throw new Error(`Stream ${streamId} is not published on the SFU`);
    }
    // The viewer may leave (or ask again) while this waits: a handle made
    // for a subscription nobody wants any more is detached, not kept.
    const token = {};
    stream.wanted.set(viewerId, token);
    const wanted = () =>
      this.#streams.get(streamId) === stream &&
      stream.wanted.get(viewerId) === token;
    await stream.up;
    if (!wanted()) throw new Error(`The subscription of ${viewerId} is gone`);
    await stream.subscribers.get(viewerId)?.handle.detach().catch(() => {});
    const handle = await (await this.#sessionOf(stream)).attach(VIDEOROOM);
    if (!wanted()) {
      await handle.detach().catch(() => {});
      throw new Error(`The subscription of ${viewerId} is gone`);
    }
    const subscriber: Subscriber = { handle };
    stream.subscribers.set(viewerId, subscriber);
    this.#watchSubscriber(streamId, viewerId, handle);
    const { offer, videoMid } = await subscribeSoon(
      handle,
      stream.room,
      stream.feed,
    );
    subscriber.videoMid = videoMid;
    this.#changed(streamId);
    return offer;
  }

  /** Sends `viewerId` simulcast layer `substream` of the stream's video. */
  async setLayer(
    streamId: string,
    viewerId: string,
    substream: number,
  ): Promise<void> {
    const subscriber = this.#streams.get(streamId)?.subscribers.get(viewerId);
    if (!subscriber?.videoMid) return;
    await setSubstream(subscriber.handle, subscriber.videoMid, substream);
  }

  /** Asks the stream's publisher for a keyframe (a PLI from Janus). */
  async requestKeyframe(streamId: string): Promise<void> {
    const publisher = this.#streams.get(streamId)?.publisher;
    if (publisher) await requestKeyframe(publisher);
  }

  /** The viewer's answer to Janus's offer. */
  async answer(
    streamId: string,
    viewerId: string,
    answer: Jsep,
  ): Promise<void> {
    const subscriber = this.#streams.get(streamId)?.subscribers.get(viewerId);
    if (!subscriber) throw new Error(`Viewer ${viewerId} is not subscribed`);
    await start(subscriber.handle, answer);
  }

  /**
   * An ICE restart between the publisher and Janus (WHIP's PATCH): its offer
   * with new credentials; Janus's answer.
   */
  async restartPublisher(streamId: string, offer: Jsep): Promise<Jsep> {
    const publisher = this.#streams.get(streamId)?.publisher;
    if (!publisher) throw new Error(`Stream ${streamId} has no publisher`);
    return await restartPublisher(publisher, offer);
  }

  /**
   * An ICE restart between a viewer and Janus (WHEP's PATCH): Janus's new
   * offer; the viewer's answer goes to {@link answer} as at the start.
   */
  async restartSubscriber(streamId: string, viewerId: string): Promise<Jsep> {
    const subscriber = this.#streams.get(streamId)?.subscribers.get(viewerId);
    if (!subscriber) throw new Error(`Viewer ${viewerId} is not subscribed`);
    return await restartSubscriber(subscriber.handle);
  }

  /** A candidate from the broadcaster (no `viewerId`) or from a viewer. */
  async trickle(
    streamId: string,
    viewerId: string | undefined,
    candidate: RTCIceCandidateInit,
  ): Promise<void> {
    const stream = this.#streams.get(streamId);
    const handle = viewerId === undefined
      ? stream?.publisher
      : stream?.subscribers.get(viewerId)?.handle;
    await handle?.trickle(candidate);
  }

  /** Viewers subscribed to `streamId` on this instance. */
  subscriberCount(streamId: string): number {
    return this.#streams.get(streamId)?.subscribers.size ?? 0;
  }

  /**
   * As an edge: a room for `streamId` with a remote publisher carrying
   * `streams`; where the origin is to send them (sfu-edge.ts).
   */
  hostRemote(streamId: string, streams: readonly PublisherStream[]) {
    return hostRemote(this.#context, streamId, streams);
  }

  /** As the origin: the publisher's streams, once Janus described them. */
  publisherStreams(streamId: string): Promise<PublisherStream[]> {
    return publisherStreams(this.#context, streamId);
  }

  /** As the origin: sends the stream's publisher on to an edge too. */
  forward(streamId: string, remoteId: string, to: RemoteTarget) {
    return forward(this.#context, streamId, remoteId, to);
  }

  /** As the origin: stops sending the stream to that edge. */
  unforward(streamId: string, remoteId: string): Promise<void> {
    return unforward(this.#context, streamId, remoteId);
  }

  /** Whether `viewerId` watches `streamId` through the SFU. */
  isSubscribed(streamId: string, viewerId: string): boolean {
    return this.#streams.get(streamId)?.subscribers.has(viewerId) ?? false;
  }

  /** The viewer left: its subscription goes. */
  async unsubscribe(streamId: string, viewerId: string): Promise<void> {
    const stream = this.#streams.get(streamId);
    const subscriber = stream?.subscribers.get(viewerId);
    stream?.subscribers.delete(viewerId);
    stream?.wanted.delete(viewerId);
    if (subscriber) this.#changed(streamId);
    await subscriber?.handle.detach().catch(() => {});
  }

  /** The stream ended: every handle detached and its room destroyed. */
  async end(streamId: string): Promise<void> {
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    this.#streams.delete(streamId);
    stream.ended = true;
    this.#changed(streamId);
    await Promise.all(
      handlesOf(stream).map((handle) => handle.detach().catch(() => {})),
    );
    const session = await stream.session?.catch(() => undefined);
    await session?.destroy().catch(() => {});
    // An edge still being made: its remote publisher goes once it exists.
    await stream.hosting?.catch(() => {});
    const link = await this.#link.current();
    if (link && !link.client.closed) {
      // Janus 1.1.2 keeps a remote publisher running past its room's end.
      if (stream.remote) {
        await removeRemotePublisher(link.control, stream.room, stream.feed!)
          .catch(() => {});
      }
      await destroyRoom(link.control, stream.room).catch((error) =>
        this.#logger.warn("sfu-room-not-destroyed", {
          streamId,
          error: String(error),
        })
      );
    }
    this.#logger.info("sfu-ended", { streamId, room: stream.room });
  }

  /**
   * What `streamId` holds here, as JSON for another node to take it over
   * ({@link adopt}); undefined before its session exists.
   */
  describe(streamId: string): Promise<StreamRecord | undefined> {
    const stream = this.#streams.get(streamId);
    return stream ? recordOf(stream) : Promise.resolve(undefined);
  }

  /**
   * Takes over `streamId` as another node left it: claims its session, so
   * Janus's events for its handles come here, and drives the same handles.
   * Rejects (Janus's 458) when the session is gone.
   */
  async adopt(
    streamId: string,
    record: StreamRecord,
    publisherId?: string,
  ): Promise<void> {
    const { client } = await this.#link.connected();
    const session = await client.claimSession(record.session);
    const stream = streamFrom(session, record);
    this.#streams.set(streamId, stream);
    if (stream.publisher) {
      this.#watchPublisher(streamId, stream.publisher, publisherId);
    }
    for (const [viewerId, { handle }] of stream.subscribers) {
      this.#watchSubscriber(streamId, viewerId, handle);
    }
    this.#logger.info("sfu-adopted", { streamId, room: stream.room });
  }

  /** A room another node left and nobody could claim: destroyed. */
  async discard(part: StreamRecord): Promise<void> {
    const { control } = await this.#link.connected();
    if (part.remote && part.feed !== undefined) {
      await removeRemotePublisher(control, part.room, part.feed)
        .catch(() => {});
    }
    await destroyRoom(control, part.room).catch(() => {});
    this.#logger.info("sfu-room-discarded", { room: part.room });
  }

  /**
   * Stops driving `streamId` without touching Janus: another node has
   * claimed (or is to claim) its session.
   */
  async release(streamId: string): Promise<void> {
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    this.#streams.delete(streamId);
    const session = await stream.session?.catch(() => undefined);
    session?.release(handlesOf(stream));
  }

  /**
   * Ends every stream and the session, and closes the link. `handOver`:
   * the streams' sessions are left to Janus for other nodes to claim (a
   * node of a cluster leaving), not ended.
   */
  async close(handOver = false): Promise<void> {
    await Promise.all(
      [...this.#streams.keys()].map((id) =>
        handOver ? this.release(id) : this.end(id)
      ),
    );
    await this.#link.close();
  }

  #watchPublisher(
    streamId: string,
    handle: JanusHandle,
    publisherId: string | undefined,
  ): void {
    watchMedia(handle, {
      streamId,
      viewerId: undefined,
      publisherId,
      current: () => this.#streams.get(streamId)?.publisher === handle,
      events: this.events,
      logger: this.#logger,
    });
    watchSlowlink(handle, streamId, undefined, this.events, this.#logger);
  }

  #watchSubscriber(
    streamId: string,
    viewerId: string,
    handle: JanusHandle,
  ): void {
    watchMedia(handle, {
      streamId,
      viewerId,
      current: () =>
        this.#streams.get(streamId)?.subscribers.get(viewerId)?.handle ===
          handle,
      events: this.events,
      logger: this.#logger,
    });
    watchSlowlink(handle, streamId, viewerId, this.events, this.#logger);
    watchSubstream(handle, streamId, viewerId, this.events);
  }

  /** The stream's own session, made on first use. */
  #sessionOf(stream: StreamOnSfu): Promise<JanusSession> {
    stream.session ??= this.#link.connected().then(({ client }) =>
      client.createSession()
    );
    stream.session.catch(() => stream.session = undefined);
    return stream.session;
  }

  /** `streamId`'s record changed (a handle came or went): `changed`. */
  #changed(streamId: string): void {
    this.events.dispatchEvent(new CustomEvent("changed", { detail: streamId }));
  }
}
