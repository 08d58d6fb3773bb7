/**
 * A WebSocket client over a bare TCP socket, for peers a real client cannot
 * imitate: one that never reads (a slow consumer) and so never answers
 * pings (a dead peer). It writes masked text frames and reads only when told.
 */
const encoder = new TextEncoder();

export class RawClient {
  readonly conn: Deno.TcpConn;
  /** The HTTP status line of the handshake answer. */
  readonly status: string;

  private constructor(conn: Deno.TcpConn, status: string) {
    this.conn = conn;
    this.status = status;
  }

  /** Sends the upgrade request and reads the answer's head, nothing more. */
  static async connect(port: number, path = "/ws"): Promise<RawClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const key = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
    );
    await writeAll(
      conn,
      encoder.encode(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
          `Sec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    // Read byte by byte up to the blank line, so no frame after it is consumed.
    const head: number[] = [];
    const byte = new Uint8Array(1);
    while (!endsWithBlankLine(head)) {
      const n = await conn.read(byte);
      if (n === null) break;
      head.push(byte[0]);
    }
    const status =
      new TextDecoder().decode(new Uint8Array(head)).split("\r\n")[0];
    return new RawClient(conn, status);
  }

  /** Writes one masked text frame, as a browser would. */
  async sendText(text: string): Promise<void> {
    const payload = encoder.encode(text);
    const mask = crypto.getRandomValues(new Uint8Array(4));
    const header: number[] = [0x81];
    if (payload.length < 126) header.push(0x80 | payload.length);
    else if (payload.length < 65536) {
      header.push(0x80 | 126, payload.length >> 8, payload.length & 0xff);
    } else {
      header.push(0x80 | 127, 0, 0, 0, 0);
      for (let shift = 24; shift >= 0; shift -= 8) {
        header.push((payload.length >>> shift) & 0xff);
      }
    }
    const frame = new Uint8Array(header.length + 4 + payload.length);
    frame.set(header);
    frame.set(mask, header.length);
    for (let i = 0; i < payload.length; i++) {
      frame[header.length + 4 + i] = payload[i] ^ mask[i % 4];
    }
    await writeAll(this.conn, frame);
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed by the server.
    }
  }
}

function endsWithBlankLine(bytes: number[]): boolean {
  const n = bytes.length;
  return n >= 4 && bytes[n - 4] === 13 && bytes[n - 3] === 10 &&
    bytes[n - 2] === 13 && bytes[n - 1] === 10;
}

async function writeAll(conn: Deno.TcpConn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) {
    written += await conn.write(data.subarray(written));
  }
}
