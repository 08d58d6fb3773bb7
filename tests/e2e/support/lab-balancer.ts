/**
 * nginx in the lab's hub in front of several signaling nodes, as a
 * deployment has it: node 0 takes every connection while it is up, the
 * others are its backups (so a test knows where the broadcaster is, and
 * where it goes when node 0 dies).
 */
import { splitLines } from "./lines.ts";
import type { TestNetwork } from "./test-network.ts";

export class LabBalancer implements AsyncDisposable {
  #child: Deno.ChildProcess;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
  }

  /** Starts nginx on `port` of the hub; resolves once its worker runs. */
  static async start(
    network: TestNetwork,
    dir: string,
    port: number,
    nodes: readonly number[],
  ): Promise<LabBalancer> {
    await Deno.mkdir(`${dir}/nginx`, { recursive: true });
    const servers = nodes.map((node, i) =>
      `    server 127.0.0.1:${node} max_fails=1 fail_timeout=2s${
        i > 0 ? " backup" : ""
      };`
    ).join("\n");
    const conf = `${dir}/nginx/nginx.conf`;
    await Deno.writeTextFile(
      conf,
      `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx/nginx.pid;
error_log stderr notice;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx/body;
  proxy_temp_path ${dir}/nginx/proxy;
  fastcgi_temp_path ${dir}/nginx/fastcgi;
  uwsgi_temp_path ${dir}/nginx/uwsgi;
  scgi_temp_path ${dir}/nginx/scgi;
  upstream nodes {
${servers}
  }
  server {
    listen ${port};
    location / {
      proxy_pass http://nodes;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 120s;
      proxy_connect_timeout 2s;
    }
  }
}
`,
    );
    const child = network.command(network.hub.ns, "nginx", [
      "-c",
      conf,
      "-p",
      `${dir}/nginx`,
    ], { stdout: "null", stderr: "piped" }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("nginx exited before it was ready");
      if (value.includes("start worker process")) break;
    }
    (async () => {
      while (!(await reader.read()).done);
    })().catch(() => {});
    return new LabBalancer(child);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      // Its master stops its workers (a SIGKILL would leave them running).
      this.#child.kill("SIGTERM");
    } catch {
      // Exited already.
    }
    await this.#child.status;
  }
}
