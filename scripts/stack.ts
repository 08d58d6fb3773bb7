/**
 * `deno task stack`: the scaled-out topology in one command. One Redis, two
 * Janus instances, two signaling nodes (each linked to both Janus, sharing
 * the Redis) and nginx in front on one port, serving the demo as
 * `deno task dev` does. Every part from Debian's packages, configured in one
 * temp folder that goes, with every process, on Ctrl-C or SIGTERM.
 *
 *   deno task stack [--port 8080] [--ice-interface IFACE] [--check]
 *
 * `--check` starts it, checks it through nginx (scripts/stack/check.ts),
 * stops it and exits 0, or 1 with the reason.
 */
import { parseArgs } from "node:util";
import { checkStack } from "./stack/check.ts";
import { type Stack, startStack } from "./stack/stack.ts";

const USAGE =
  `usage: deno task stack [--port N] [--ice-interface IFACE] [--check]

  --port N                nginx's port, on every address (default 8080)
  --ice-interface IFACE   the interface(s) Janus gathers ICE candidates on
                          (nat.ice_enforce_list; default: every interface
                          but loopback)
  --check                 start, check through nginx, stop; exit 0 or 1`;

function options() {
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string", default: "8080" },
        "ice-interface": { type: "string" },
        check: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`--port must be from 1 to 65535, got ${values.port}`);
    }
    if (values.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    return { port, iceInterface: values["ice-interface"], check: values.check };
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    Deno.exit(2);
  }
}

function summary(stack: Stack, iceInterface: string | undefined): string {
  const local = `http://localhost:${stack.port}`;
  const lan = Deno.networkInterfaces()
    .filter((i) => i.family === "IPv4" && !i.address.startsWith("127."))
    .map((i) =>
      `    On your LAN:   http://${i.address}:${stack.port}/order.html`
    );
  const nodes = stack.nodes.map((node) =>
    `    ${node.name}:        http://127.0.0.1:${node.port}   id ${node.id}   log ${node.name}.log`
  );
  const janus = stack.janus.map((j) =>
    `    ${j.name}:       ${j.url}   admin ${j.adminUrl}   RTP ${j.rtpPortRange}   log ${j.name}/janus.log`
  );
  return `
  live-widgets stack: 2 signaling nodes, 2 Janus instances, Redis, nginx

    Demo:          ${local}/
    Provider page: ${local}/provider.html   (the camera needs localhost or HTTPS)
    Order page:    ${local}/order.html
    Signaling:     ws://localhost:${stack.port}/ws   (nginx, round robin over the nodes)
    Health:        ${local}/healthz   ${local}/metrics
${lan.join("\n")}${lan.length ? "\n" : ""}
    nginx:         0.0.0.0:${stack.port}   conf nginx/nginx.conf   logs nginx/
${nodes.join("\n")}
${janus.join("\n")}
    redis:         ${stack.redisUrl}   log redis/redis.log
    Janus admin secret: ${stack.adminSecret}
    Temp folder:   ${stack.dir}   (configs and logs; removed at exit)

  Janus gathers ICE candidates on ${
    iceInterface ? `${iceInterface} only` : "every interface but loopback"
  }: a browser reaches it only over a
  non-loopback address (--ice-interface IFACE to choose).
  Ctrl-C stops everything.
`;
}

if (import.meta.main) {
  const { port, iceInterface, check } = options();
  const interrupt = new AbortController();
  let stack: Stack | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stack?.stop();
    Deno.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      console.error(`stack: ${signal}, stopping`);
      if (stack) stop(check ? 1 : 0);
      else interrupt.abort();
    });
  }
  try {
    stack = await startStack({
      port,
      iceInterface,
      signal: interrupt.signal,
      onStep: (step) => console.error(`stack: ${step}`),
      onNodeLine: check
        ? undefined
        : (node, line) => console.log(`[${node}] ${line}`),
    });
  } catch (error) {
    console.error(`stack: ${(error as Error).message}`);
    Deno.exit(interrupt.signal.aborted && !check ? 0 : 1);
  }
  const failed = stack.failed.then(async (child) => {
    const { code, signal } = await child.exited;
    throw new Error(
      `${child.name} exited on its own (${
        signal ? `signal ${signal}` : `code ${code}`
      }); its last lines:\n${child.tail()}`,
    );
  });
  if (check) {
    try {
      await Promise.race([
        checkStack(stack, (passed) => console.log(`stack check: ${passed}`)),
        failed,
      ]);
      console.log("stack check: passed");
      await stop(0);
    } catch (error) {
      console.error(`stack check failed: ${(error as Error).message}`);
      await stop(1);
    }
  } else {
    console.log(summary(stack, iceInterface));
    failed.catch(async (error) => {
      console.error(`stack: ${error.message}`);
      await stop(1);
    });
  }
}
