/**
 * The fault lab's web site, run as its own process in the hub namespace:
 * serves a directory (the built bundles and the lab's pages) and takes the
 * pages' reports (`POST /report`), printing each as one JSON line, so the
 * test in the root namespace reads them from this process's stdout.
 *
 * `deno run -A lab-site.ts DIR HOSTNAME`
 */
import { createStaticHandler } from "../../../server/http/static-files.ts";

const [dir, hostname] = Deno.args;
const files = createStaticHandler(dir);
const encoder = new TextEncoder();

Deno.serve({
  hostname,
  port: 0,
  onListen: ({ port }) => console.log(JSON.stringify({ listening: port })),
}, async (request) => {
  if (new URL(request.url).pathname === "/report") {
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const body = await request.text();
    // One line per report: the reader splits on newlines.
    await Deno.stdout.write(encoder.encode(body.replaceAll("\n", " ") + "\n"));
    return new Response(null, { status: 204 });
  }
  return (await files(request)) ?? new Response("Not found", { status: 404 });
});
