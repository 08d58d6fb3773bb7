/**
 * Time-limited TURN credentials in the TURN REST API scheme that coturn's
 * `use-auth-secret` checks: username `expiry:clientId`, password
 * base64(HMAC-SHA1(secret, username)). The secret stays on the servers;
 * clients get credentials that expire. Never logged.
 */
import type { IceServer } from "../../protocol/messages.ts";

export interface TurnConfig {
  urls: string[];
  secret: string;
  ttlSeconds: number;
  stunUrls?: string[];
}

export class TurnCredentials {
  #config: TurnConfig;
  #key: Promise<CryptoKey>;

  constructor(config: TurnConfig) {
    this.#config = config;
    this.#key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(config.secret),
      { name: "HMAC", hash: "SHA-1" },
      false,
      ["sign"],
    );
  }

  /** ICE servers for `clientId`, valid for the configured lifetime from `now` (ms). */
  async iceServersFor(
    clientId: string,
    now = Date.now(),
  ): Promise<IceServer[]> {
    const expiry = Math.floor(now / 1000) + this.#config.ttlSeconds;
    const username = `${expiry}:${clientId}`;
    const signature = await crypto.subtle.sign(
      "HMAC",
      await this.#key,
      new TextEncoder().encode(username),
    );
    const credential = btoa(String.fromCharCode(...new Uint8Array(signature)));
    const servers: IceServer[] = [{
      urls: this.#config.urls,
      username,
      credential,
    }];
    if (this.#config.stunUrls) servers.unshift({ urls: this.#config.stunUrls });
    return servers;
  }
}
