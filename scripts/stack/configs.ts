/**
 * The configuration files the stack writes into its temp folder: Redis's,
 * each Janus's (as tests/e2e/support/janus-process.ts makes them: VideoRoom
 * and the WebSocket transport only) and nginx's.
 */

const JANUS_LIB = "/usr/lib/x86_64-linux-gnu/janus";

/** redis.conf: loopback, no persistence, its working folder `dir`. */
export function redisConfig(dir: string, port: number): string {
  return `port ${port}
bind 127.0.0.1
protected-mode yes
save ""
appendonly no
dir ${dir}
loglevel notice
`;
}

export interface JanusConfig {
  /** Its folder: the `janus.*.jcfg` files are written here. */
  dir: string;
  /** WebSocket API port (on 127.0.0.1). */
  port: number;
  /** Admin API port (WebSocket, on 127.0.0.1). */
  adminPort: number;
  adminSecret: string;
  /** "first-last", disjoint from every other instance's. */
  rtpPortRange: string;
  /** The only interface(s) ICE gathers on (`nat.ice_enforce_list`). */
  iceInterface?: string;
}

/** Writes `janus.jcfg` and the transport's and plugin's files into `dir`. */
export async function writeJanusConfig(janus: JanusConfig): Promise<void> {
  const { dir } = janus;
  const disabled = (kind: string, keep: string[]) =>
    [...Deno.readDirSync(`${JANUS_LIB}/${kind}`)]
      .map((entry) => entry.name)
      .filter((name) => name.endsWith(".so") && !keep.includes(name))
      .join(",");
  await Deno.writeTextFile(
    `${dir}/janus.jcfg`,
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${JANUS_LIB}/plugins"
  transports_folder = "${JANUS_LIB}/transports"
  events_folder = "${JANUS_LIB}/events"
  loggers_folder = "${JANUS_LIB}/loggers"
  debug_level = 4
  session_timeout = 60
  # A session whose WebSocket dropped waits this long for another
  # connection to claim it: a surviving signaling node takes over a dead
  # node's streams with the Janus core's claim request.
  reclaim_session_timeout = 60
  admin_secret = "${janus.adminSecret}"
}
media: {
  rtp_port_range = "${janus.rtpPortRange}"
  # Lost packets per second that make Janus report a viewer's link (slowlink).
  slowlink_threshold = 4
}
nat: {
  # Connectivity checks as keepalives: a peer gone without a goodbye (a WHEP
  # player crashed or off the network) fails ICE and is hung up ~60 s later.
  ice_keepalive_conncheck = true
${
      janus.iceInterface
        ? `  ice_enforce_list = "${janus.iceInterface}"`
        : "  # Every interface but loopback (Janus gathers nothing there)."
    }
}
plugins: {
  disable = "${disabled("plugins", ["libjanus_videoroom.so"])}"
}
transports: {
  disable = "${disabled("transports", ["libjanus_websockets.so"])}"
}
events: {
  broadcast = false
  disable = "${disabled("events", [])}"
}
loggers: {
  disable = "${disabled("loggers", [])}"
}
`,
  );
  await Deno.writeTextFile(
    `${dir}/janus.transport.websockets.jcfg`,
    `general: {
  json = "plain"
  ws = true
  ws_port = ${janus.port}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = true
  admin_ws_port = ${janus.adminPort}
  admin_ws_ip = "127.0.0.1"
  admin_wss = false
}
`,
  );
  await Deno.writeTextFile(
    `${dir}/janus.plugin.videoroom.jcfg`,
    "general: {\n}\n",
  );
}

export interface NginxConfig {
  /** Its folder: pid, logs and temp files. */
  dir: string;
  /** Where it listens, on every address. */
  port: number;
  /** The signaling nodes' ports on 127.0.0.1. */
  nodes: number[];
}

/** nginx.conf: one port in front of every node. */
export function nginxConfig({ dir, port, nodes }: NginxConfig): string {
  const servers = nodes
    .map((node) => `    server 127.0.0.1:${node} max_fails=1 fail_timeout=5s;`)
    .join("\n");
  // What every proxied location sets. X-Forwarded-For is overwritten, not
  // appended to: the nodes (TRUST_PROXY=1) take its first address.
  const proxied = `      proxy_connect_timeout 2s;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;`;
  return `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
# Also on stderr: the stack waits for "start worker process" there.
error_log stderr notice;

events {
  worker_connections 1024;
}

http {
  # Which node served each request.
  log_format upstream '$remote_addr "$request" $status -> $upstream_addr';
  access_log ${dir}/access.log upstream;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  map $http_upgrade $connection_upgrade {
    default upgrade;
    "" close;
  }
  # A WHIP or WHEP session lives on the node that answered its POST: every
  # request about a stream goes to the same node (its id hashed).
  map $uri $stream_key {
    ~^/wh[ei]p/(?<id>[^/]+) $id;
    default $uri;
  }

  upstream live {
${servers}
  }
  upstream live_by_stream {
    hash $stream_key consistent;
${servers}
  }

  server {
    listen ${port};

    # The signaling WebSocket: upgraded, kept open past two heartbeats.
    location = /ws {
      proxy_pass http://live;
${proxied}
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 120s;
      proxy_send_timeout 120s;
      # A node that cannot take the socket (Redis lost, full) answers 503:
      # the client is offered to the other one.
      proxy_next_upstream error timeout http_503;
    }
    location /whip/ {
      proxy_pass http://live_by_stream;
${proxied}
      client_max_body_size 64k;
    }
    location /whep/ {
      proxy_pass http://live_by_stream;
${proxied}
      client_max_body_size 64k;
    }
    # /healthz, /metrics, the demo pages and the bundles (each node serves
    # them from STATIC_DIR).
    location / {
      proxy_pass http://live;
${proxied}
      proxy_next_upstream error timeout http_503;
    }
  }
}
`;
}
