/**
 * The token an element sends with `broadcaster-ready` / `join-stream` when
 * the server requires one: the `token` attribute as given, or what
 * `tokenProvider` returns, asked again once the cached one is about to
 * expire (its `exp` is read, not verified: the server verifies).
 */
export type TokenRole = "broadcaster" | "viewer";

/** Returns a stream token (from the shop's backend) for this stream and role. */
export type TokenProvider = (
  request: { streamId: string; role: TokenRole },
) => string | Promise<string>;

/** A token this close to its expiry is replaced before use. */
const REFRESH_MARGIN_SECONDS = 30;

export class StreamToken {
  /** A token is good for one stream: kept with the stream it was minted for. */
  #cached: { token: string; streamId: string } | undefined;
  #role: TokenRole;

  constructor(role: TokenRole) {
    this.#role = role;
  }

  /** The token to send now, or undefined when there is none (open servers). */
  async get(
    source: { token: string | null; tokenProvider?: TokenProvider },
    streamId: string,
  ): Promise<string | undefined> {
    if (!source.tokenProvider) return source.token ?? undefined;
    const cached = this.#cached?.streamId === streamId
      ? this.#cached.token
      : undefined;
    const left = cached ? secondsLeft(cached) : undefined;
    if (cached && (left === undefined || left > REFRESH_MARGIN_SECONDS)) {
      return cached;
    }
    const token = await source.tokenProvider({ streamId, role: this.#role });
    this.#cached = { token, streamId };
    return token;
  }

  /** Drops the cached token, so the next `get()` asks the provider again. */
  forget(): void {
    this.#cached = undefined;
  }
}

/** Seconds until the JWT's `exp`, or undefined if it has none or is unreadable. */
export function secondsLeft(
  token: string,
  now = Date.now(),
): number | undefined {
  try {
    const payload = token.split(".")[1].replaceAll("-", "+").replaceAll(
      "_",
      "/",
    );
    const { exp } = JSON.parse(atob(payload));
    return typeof exp === "number" ? exp - now / 1000 : undefined;
  } catch {
    return undefined;
  }
}
