/**
 * "Janus + server linked": a real Janus on loopback and a signaling server
 * (tests/server/support/test-server.ts) with its JANUS_URL, linked before
 * the body runs; both stopped after it, also when it throws. Control only:
 * on loopback Janus gathers no candidates, so media tests use the lab
 * (`labTest` with `janus: true`).
 */
import type { ServerConfig } from "../../../server/config.ts";
import type { LogLevel } from "../../../server/observe/logger.ts";
import {
  startTestServer,
  type TestServer,
} from "../../server/support/test-server.ts";
import { JanusProcess } from "./janus-process.ts";
import { installed, missing } from "./requirements.ts";

export interface JanusLinked {
  janus: JanusProcess;
  server: TestServer;
}

export interface JanusLinkedOptions {
  /** The server's configuration, beside the `janusUrl` given here. */
  config?: Partial<ServerConfig>;
  /** The server's log level: "error" unless said. */
  logLevel?: LogLevel;
}

/** Janus, a server linked to it, `body` run with both, both stopped. */
export async function withJanusLinked(
  options: JanusLinkedOptions,
  body: (linked: JanusLinked) => Promise<void>,
): Promise<void> {
  await using janus = await JanusProcess.start();
  await using server = await startTestServer(
    { ...options.config, janusUrl: janus.url },
    options.logLevel ?? "error",
  );
  await server.sfuLinked();
  await body({ janus, server });
}

/**
 * Registers `name` to run `body` with Janus and a server linked
 * (`withJanusLinked`); ignored where Janus is not installed.
 */
export function janusLinkedTest(
  name: string,
  options: JanusLinkedOptions,
  body: (linked: JanusLinked) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: missing({ janus: installed("janus") }).length > 0,
    // Janus's log reader is still draining when the test ends.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => withJanusLinked(options, body),
  });
}
