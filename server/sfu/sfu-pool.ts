/**
 * Several Janus instances (JANUS_URL, comma-separated) as one SFU: a stream
 * is published on the least-loaded linked instance and stays there; its
 * subscriptions and ICE steps go to that instance. When an instance is
 * lost, its streams are named in one `lost` event (with whether another
 * instance is up, to publish them again there); `up` fires when any
 * instance links. One instance is a pool of one.
 */
import type { Logger } from "../observe/logger.ts";
import type { Jsep } from "./video-room.ts";
import { JanusUnavailable } from "./janus-client.ts";
import { SfuGateway } from "./sfu-gateway.ts";

/** The streams an instance took with it, and whether another is up. */
export interface LostEvent {
  url: string;
  streams: readonly string[];
  up: boolean;
}

export class SfuPool {
  /**
   * Fires `lost` (a {@link LostEvent}), `up` (an instance linked),
   * `slowlink` and `media` (as SfuGateway's, from every instance).
   */
  readonly events = new EventTarget();
  #instances: SfuGateway[];
  #assigned = new Map<string, SfuGateway>();

  constructor(
    urls: readonly string[],
    logger: Logger,
    /** Makes an instance's gateway (a fake in unit tests). */
    make = (url: string) => new SfuGateway(url, logger),
  ) {
    this.#instances = urls.map(make);
    for (const instance of this.#instances) {
      const { events } = instance;
      for (const type of ["slowlink", "media"]) {
        events.addEventListener(type, (event) =>
          this.events.dispatchEvent(
            new CustomEvent(type, { detail: (event as CustomEvent).detail }),
          ));
      }
      events.addEventListener(
        "up",
        () => this.events.dispatchEvent(new Event("up")),
      );
      events.addEventListener("down", (event) => {
        const streams = (event as CustomEvent<string[]>).detail.filter(
          (streamId) => this.#assigned.get(streamId) === instance,
        );
        for (const streamId of streams) this.#assigned.delete(streamId);
        const detail: LostEvent = { url: instance.url, streams, up: this.up };
        this.events.dispatchEvent(new CustomEvent("lost", { detail }));
      });
    }
  }

  /** Whether any instance is linked: streams go to the SFU only then. */
  get up(): boolean {
    return this.#instances.some((instance) => instance.up);
  }

  /** Linked instances now (a gauge). */
  get linked(): number {
    return this.#instances.filter((instance) => instance.up).length;
  }

  /** Links every instance now, and again whenever a link is lost. */
  start(): void {
    for (const instance of this.#instances) instance.start();
  }

  /** The instance `streamId` is published on, if any. */
  instanceOf(streamId: string): string | undefined {
    return this.#assigned.get(streamId)?.url;
  }

  /**
   * Publishes on the stream's instance, or (a new stream, or its instance
   * lost) on the least-loaded linked one.
   */
  publish(streamId: string, offer: Jsep, publisherId?: string): Promise<Jsep> {
    let instance = this.#assigned.get(streamId);
    if (!instance?.up) {
      instance = this.#leastLoaded();
      if (!instance) {
        return Promise.reject(
          new JanusUnavailable("No Janus instance is linked"),
        );
      }
      this.#assigned.set(streamId, instance);
    }
    return instance.publish(streamId, offer, publisherId);
  }

  subscribe(streamId: string, viewerId: string): Promise<Jsep> {
    return this.#on(streamId, (i) => i.subscribe(streamId, viewerId));
  }

  setLayer(streamId: string, viewerId: string, layer: number): Promise<void> {
    return this.#on(streamId, (i) => i.setLayer(streamId, viewerId, layer));
  }

  answer(streamId: string, viewerId: string, answer: Jsep): Promise<void> {
    return this.#on(streamId, (i) => i.answer(streamId, viewerId, answer));
  }

  restartPublisher(streamId: string, offer: Jsep): Promise<Jsep> {
    return this.#on(streamId, (i) => i.restartPublisher(streamId, offer));
  }

  restartSubscriber(streamId: string, viewerId: string): Promise<Jsep> {
    return this.#on(streamId, (i) => i.restartSubscriber(streamId, viewerId));
  }

  trickle(
    streamId: string,
    viewerId: string | undefined,
    candidate: Parameters<SfuGateway["trickle"]>[2],
  ): Promise<void> {
    return this.#on(streamId, (i) => i.trickle(streamId, viewerId, candidate));
  }

  isSubscribed(streamId: string, viewerId: string): boolean {
    return this.#assigned.get(streamId)?.isSubscribed(streamId, viewerId) ??
      false;
  }

  async unsubscribe(streamId: string, viewerId: string): Promise<void> {
    await this.#assigned.get(streamId)?.unsubscribe(streamId, viewerId);
  }

  /** The stream ended (or moves): its handles and room on its instance go. */
  async end(streamId: string): Promise<void> {
    const instance = this.#assigned.get(streamId);
    this.#assigned.delete(streamId);
    await instance?.end(streamId);
  }

  async close(): Promise<void> {
    await Promise.all(this.#instances.map((instance) => instance.close()));
  }

  #leastLoaded(): SfuGateway | undefined {
    let best: SfuGateway | undefined;
    for (const instance of this.#instances) {
      if (instance.up && (!best || instance.load < best.load)) best = instance;
    }
    return best;
  }

  #on<T>(
    streamId: string,
    step: (instance: SfuGateway) => Promise<T>,
  ): Promise<T> {
    const instance = this.#assigned.get(streamId);
    return instance ? step(instance) : Promise.reject(
      new JanusUnavailable(`Stream ${streamId} is on no linked Janus instance`),
    );
  }
}
