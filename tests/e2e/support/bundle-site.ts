/** The built bundles plus a few pages, served by a real signaling server. */
import * as esbuild from "esbuild";
import { build } from "../../../scripts/build.ts";
import { DEFAULT_CONFIG, type ServerConfig } from "../../../server/config.ts";
import { createLogger } from "../../../server/observe/logger.ts";
import { startSignalingServer } from "../../../server/signaling-server.ts";
import { createStaticHandler } from "../../../server/http/static-files.ts";

export interface BundleSite extends AsyncDisposable {
  base: string;
  dir: string;
}

/** Builds dist/ into a temp dir, adds `pages`, and serves both with `config`. */
export async function serveBundles(
  pages: Record<string, string>,
  config: Partial<ServerConfig> = {},
): Promise<BundleSite> {
  const dir = await Deno.makeTempDir();
  await build(dir);
  await esbuild.stop();
  for (const [name, html] of Object.entries(pages)) {
    await Deno.writeTextFile(`${dir}/${name}`, html);
  }
  const server = await startSignalingServer(
    { ...DEFAULT_CONFIG, hostname: "127.0.0.1", port: 0, ...config },
    { logger: createLogger("warn"), files: createStaticHandler(dir) },
  );
  return {
    base: `http://127.0.0.1:${server.port}`,
    dir,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
