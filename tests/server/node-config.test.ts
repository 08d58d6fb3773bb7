/** The node links' and processes' settings: defaults, and every bad one named. */
import assert from "node:assert/strict";
import { loadConfig } from "../../server/config.ts";
import {
  DEFAULT_NODE_CONFIG,
  readNodeConfig,
} from "../../server/cluster/node-config.ts";

const AROUND = {
  redisUrl: "redis://127.0.0.1:6379",
  maxMessageBytes: 65536,
  port: 5000,
};

Deno.test("node settings: links on, on loopback, any port, one process by default", () => {
  assert.deepEqual(loadConfig({}).nodes, DEFAULT_NODE_CONFIG);
  assert.equal(DEFAULT_NODE_CONFIG.links, true);
  assert.equal(DEFAULT_NODE_CONFIG.linkHost, "127.0.0.1");
  assert.equal(DEFAULT_NODE_CONFIG.linkPort, 0);
  assert.equal(DEFAULT_NODE_CONFIG.processes, 1);
  assert.equal(DEFAULT_NODE_CONFIG.reusePort, false);
  assert.equal(readNodeConfig({ NODE_LINKS: "off" }, AROUND, []).links, false);
});

Deno.test("node settings: each bad one is named, and the start stops", () => {
  const problems: string[] = [];
  readNodeConfig(
    {
      NODE_LINKS: "maybe",
      NODE_LINK_PORT: "70000",
      NODE_LINK_URL: "http://10.0.0.5:7001",
      CLUSTER_SECRET: "short",
      NODE_LINK_MAX_FRAME_BYTES: "4096",
      NODE_LINK_QUEUE_BYTES: "10",
      NODE_LINK_ROUTES: "many",
      NODE_LINK_MAX_PENDING: "0",
      REUSE_PORT: "yes",
    },
    AROUND,
    problems,
  );
  const text = problems.join("\n");
  for (
    const name of [
      "NODE_LINKS must be on or off",
      "NODE_LINK_PORT must be an integer from 0 to 65535",
      "NODE_LINK_URL must be tcp://host:port",
      "CLUSTER_SECRET must be at least 32 bytes",
      "NODE_LINK_MAX_FRAME_BYTES must be at least MAX_MESSAGE_BYTES + 1024",
      "NODE_LINK_QUEUE_BYTES must be an integer from 65536",
      "NODE_LINK_ROUTES must be an integer",
      "NODE_LINK_MAX_PENDING must be an integer from 1 to 100000",
      "REUSE_PORT must be 1 or 0",
    ]
  ) assert.ok(text.includes(name), `${name} in ${text}`);
  assert.throws(
    () => loadConfig({ NODE_LINK_HOST: "0.0.0.0" }),
    /NODE_LINK_HOST 0\.0\.0\.0 listens on every interface: set NODE_LINK_URL/,
  );
});

Deno.test("node settings: several processes need Redis, a shared port, and Linux", () => {
  assert.throws(
    () => loadConfig({ PROCESSES: "2" }),
    /PROCESSES above 1 needs REDIS_URL/,
  );
  assert.throws(
    () =>
      loadConfig({
        PROCESSES: "2",
        PORT: "0",
        REDIS_URL: "redis://127.0.0.1:6379",
      }),
    /PROCESSES above 1 needs a PORT they share/,
  );
  const problems: string[] = [];
  readNodeConfig({ PROCESSES: "2" }, AROUND, problems, "darwin");
  assert.match(problems.join(), /PROCESSES above 1 and REUSE_PORT need Linux/);
  const fine: string[] = [];
  const two = readNodeConfig({ PROCESSES: "2" }, AROUND, fine, "linux");
  assert.deepEqual(fine, []);
  assert.equal(two.processes, 2);
});
