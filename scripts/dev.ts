/**
 * `deno task dev`: one process on PORT (5000) serving the signaling WebSocket
 * at /ws, the demo pages from demo/, and the bundles, rebuilt in memory by
 * esbuild whenever a source file changes. No second dev server and no proxy,
 * so the seed's Vite-proxy WebSocket trap cannot happen.
 */
import * as esbuild from "esbuild";
import { basename } from "node:path";
import { loadConfig } from "../server/config.ts";
import { createLogger, type Logger } from "../server/observe/logger.ts";
import {
  redisClusterFor,
  startSignalingServer,
} from "../server/signaling-server.ts";
import {
  CORS_HEADERS,
  createStaticHandler,
} from "../server/http/static-files.ts";
import selfsigned from "selfsigned";
import { bundleBuilds } from "./bundles.ts";

const DEMO = new URL("../demo", import.meta.url).pathname;

export interface DevServer {
  port: number;
  /** Resolves after the next rebuild, with its duration in ms. */
  nextBuild(): Promise<number>;
  close(): Promise<void>;
}

export async function startDevServer(
  port: number,
  logger: Logger,
  tlsPort?: number,
): Promise<DevServer> {
  const outputs = new Map<string, string>();
  let waiters: ((ms: number) => void)[] = [];
  let startedAt = 0;
  // One context per bundle (scripts/bundles.ts): a change rebuilds those
  // that use the file; the waiters hear when the last of them is done.
  let building = 0;
  const contexts = await Promise.all(
    bundleBuilds({
      outdir: "/bundles",
      write: false,
      minify: false,
      sourcemap: "inline",
    }).map((options) => ({
      ...options,
      // After the bundles' own plugins (Lit's css-tag.js replaced, Lit
      // trimmed, as in the built bundles).
      plugins: [...options.plugins ?? [], {
        name: "serve-from-memory",
        setup(build: esbuild.PluginBuild) {
          build.onStart(() => {
            if (building++ === 0) startedAt = performance.now();
          });
          build.onEnd((result: esbuild.BuildResult) => {
            for (const file of result.outputFiles ?? []) {
              outputs.set(`/${basename(file.path)}`, file.text);
            }
            const errors = result.errors.length;
            const ms = Math.round(performance.now() - startedAt);
            if (errors) logger.error("rebuild-failed", { errors, ms });
            if (--building > 0) return;
            if (!errors) logger.info("rebuilt", { ms, bundles: outputs.size });
            for (const resolve of waiters.splice(0)) resolve(ms);
          });
        },
      }],
    })).map((options) => esbuild.context(options)),
  );
  // Every bundle built once before the first request.
  await Promise.all(contexts.map((context) => context.rebuild()));
  await Promise.all(contexts.map((context) => context.watch()));
  const demo = createStaticHandler(DEMO, { cacheControl: "no-cache" });
  const config = loadConfig({
    // A developer reloading pages all day is not an attack.
    CONNECT_BURST_PER_IP: "1000",
    JOIN_BURST_PER_IP: "1000",
    ...Deno.env.toObject(),
    PORT: String(port),
  });
  const server = await startSignalingServer(config, {
    logger,
    redisCluster: await redisClusterFor(config),
    tls: tlsPort === undefined ? undefined : await devCertificate(tlsPort),
    files: (request) => {
      const bundle = outputs.get(new URL(request.url).pathname);
      if (bundle) {
        return Promise.resolve(
          new Response(bundle, {
            headers: {
              "content-type": "text/javascript; charset=utf-8",
              "cache-control": "no-cache",
              ...CORS_HEADERS,
            },
          }),
        );
      }
      return demo(request);
    },
  });
  return {
    port: server.port,
    nextBuild: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      waiters = [];
      await Promise.all(contexts.map((context) => context.dispose()));
      await server.shutdown();
    },
  };
}

/**
 * A throwaway self-signed certificate: the phone shows a warning once, then
 * allows the camera. Made fresh at each start; never for production.
 */
async function devCertificate(port: number) {
  const pems = await selfsigned.generate(
    [{ name: "commonName", value: "live-widgets dev" }],
    { keySize: 2048, notAfterDate: new Date(Date.now() + 30 * 86_400_000) },
  );
  return { port, cert: pems.cert, key: pems.private };
}

/** Addresses a phone on the same network can use. */
function lanAddresses(): string[] {
  try {
    return Deno.networkInterfaces()
      .filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
      .map((i) => i.address);
  } catch {
    return [];
  }
}

if (import.meta.main) {
  const config = loadConfig(Deno.env.toObject());
  const logger = createLogger(config.logLevel);
  const tlsPort = Number(Deno.env.get("DEV_HTTPS_PORT") ?? 5443);
  const dev = await startDevServer(config.port, logger, tlsPort || undefined);
  const local = `http://localhost:${dev.port}`;
  console.log(`
  live-widgets dev server

    Demo:          ${local}/
    Provider page: ${local}/provider.html
    Order page:    ${local}/order.html
    Theming:       ${local}/theming.html
    Signaling:     ws://localhost:${dev.port}/ws
${
    lanAddresses().map((address) =>
      `    On your LAN:   http://${address}:${dev.port}/order.html   (viewers)\n` +
      (tlsPort
        ? `                   https://${address}:${tlsPort}/provider.html   (phone camera; accept the self-signed certificate)`
        : "")
    ).join("\n")
  }
  Edit components/ and reload: bundles rebuild in memory.
`);
  const stop = async () => {
    await dev.close();
    await esbuild.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
