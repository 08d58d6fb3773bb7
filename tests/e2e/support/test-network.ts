/**
 * A test network made of network namespaces (CONTRIBUTING.md, why some
 * tests need root): a hub namespace with a bridge and the servers, one
 * namespace per browser, each joined to the hub's bridge by a veth pair. Nothing is added to the root
 * namespace; everything is deleted on dispose, and namespaces left by a run
 * that died are swept at the next start. Needs root (`ip netns`).
 *
 * Faults are made the way a phone meets them: the link going down and up,
 * the address changing while the link stays up.
 */
const PREFIX = "lwf";
const SUBNET = "10.213.0";

export interface Host {
  /** The namespace's name. */
  ns: string;
  /** Its current address on the test network. */
  address: string;
}

export class TestNetwork implements AsyncDisposable {
  readonly hub: Host;
  readonly hosts: Host[];
  #id: string;
  #addressCount = 0;

  private constructor(id: string, hosts: number) {
    this.#id = id;
    this.hub = { ns: `${PREFIX}${id}h`, address: `${SUBNET}.1` };
    this.hosts = Array.from({ length: hosts }, (_, i) => ({
      ns: `${PREFIX}${id}b${i + 1}`,
      address: `${SUBNET}.${11 + i}`,
    }));
  }

  /** Whether this machine lets us build one (root, `ip netns`). */
  static async available(): Promise<boolean> {
    try {
      const { success } = await new Deno.Command("ip", {
        args: ["netns", "list"],
        stdout: "null",
        stderr: "null",
      }).output();
      return success && Deno.uid() === 0;
    } catch {
      return false;
    }
  }

  /** The hub and `hosts` browser namespaces, wired and up. */
  static async create(hosts: number): Promise<TestNetwork> {
    await sweep();
    const id = `${Deno.pid % 10000}${
      String(Math.floor(Math.random() * 100)).padStart(2, "0")
    }`;
    const network = new TestNetwork(id, hosts);
    try {
      await network.#build();
    } catch (error) {
      await network[Symbol.asyncDispose]();
      throw error;
    }
    return network;
  }

  async #build(): Promise<void> {
    const hub = this.hub.ns;
    await ip("netns", "add", hub);
    await ip("-n", hub, "link", "set", "lo", "up");
    await ip("-n", hub, "link", "add", "br0", "type", "bridge");
    await ip("-n", hub, "link", "set", "br0", "up");
    await ip("-n", hub, "addr", "add", `${this.hub.address}/24`, "dev", "br0");
    for (const [i, host] of this.hosts.entries()) {
      const side = `h${i + 1}`;
      await ip("netns", "add", host.ns);
      await ip("-n", host.ns, "link", "set", "lo", "up");
      await ip(
        "-n",
        hub,
        "link",
        "add",
        side,
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        host.ns,
      );
      await ip("-n", hub, "link", "set", side, "master", "br0");
      await ip("-n", hub, "link", "set", side, "up");
      await ip(
        "-n",
        host.ns,
        "addr",
        "add",
        `${host.address}/24`,
        "dev",
        "eth0",
      );
      await ip("-n", host.ns, "link", "set", "eth0", "up");
      await ip(
        "-n",
        host.ns,
        "route",
        "add",
        "default",
        "via",
        this.hub.address,
      );
    }
  }

  /** The host's link goes down (a tunnel, a lift). */
  async linkDown(host: Host): Promise<void> {
    await ip("-n", host.ns, "link", "set", "eth0", "down");
  }

  /** The link is back: the address and the default route return with it. */
  async linkUp(host: Host): Promise<void> {
    await ip("-n", host.ns, "link", "set", "eth0", "up");
    await ip(
      "-n",
      host.ns,
      "route",
      "replace",
      "default",
      "via",
      this.hub.address,
    );
  }

  /**
   * The host loses `fraction` of the UDP packets it receives (a weak
   * signal): iptables inside its own namespace, gone with it.
   */
  async loss(host: Host, fraction: number): Promise<void> {
    await ip(
      "netns",
      "exec",
      host.ns,
      "iptables",
      "-A",
      "INPUT",
      "-p",
      "udp",
      "-m",
      "statistic",
      "--mode",
      "random",
      "--probability",
      String(fraction),
      "-j",
      "DROP",
    );
  }

  /** The host's loss ends. */
  async noLoss(host: Host): Promise<void> {
    await ip("netns", "exec", host.ns, "iptables", "-F", "INPUT");
  }

  /** A new address while the link stays up (Wi-Fi to cellular). */
  async changeAddress(host: Host): Promise<void> {
    const next = `${SUBNET}.${100 + this.#addressCount++}`;
    // Old first: deleting a primary address takes its secondaries with it.
    await ip("-n", host.ns, "addr", "del", `${host.address}/24`, "dev", "eth0");
    await ip("-n", host.ns, "addr", "add", `${next}/24`, "dev", "eth0");
    await ip(
      "-n",
      host.ns,
      "route",
      "replace",
      "default",
      "via",
      this.hub.address,
    );
    host.address = next;
  }

  /** `command` inside `ns`. */
  command(
    ns: string,
    command: string,
    args: string[],
    options: Deno.CommandOptions = {},
  ): Deno.Command {
    return new Deno.Command("ip", {
      ...options,
      args: ["netns", "exec", ns, command, ...args],
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const ns of [this.hub.ns, ...this.hosts.map((h) => h.ns)]) {
      await removeNamespace(ns);
    }
  }
}

async function ip(...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("ip", {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `ip ${args.join(" ")}: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
}

/** Kills what still runs in `ns`, then deletes it (its veths go with it). */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await new Deno.Command("ip", {
    args: ["netns", "pids", ns],
    stdout: "piped",
    stderr: "null",
  }).output();
  for (const pid of new TextDecoder().decode(pids.stdout).split(/\s+/)) {
    if (!pid) continue;
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  await new Deno.Command("ip", {
    args: ["netns", "del", ns],
    stdout: "null",
    stderr: "null",
  }).output();
}

/** Namespaces of ours whose test process is gone (a run that was killed). */
async function sweep(): Promise<void> {
  const { stdout } = await new Deno.Command("ip", {
    args: ["netns", "list"],
    stdout: "piped",
    stderr: "null",
  }).output();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const name = line.split(" ")[0];
    const match = new RegExp(`^${PREFIX}(\\d+)[hb]`).exec(name);
    if (!match) continue;
    const pid = Math.floor(Number(match[1]) / 100);
    if (pid !== Deno.pid % 10000 && !(await alive(pid))) {
      await removeNamespace(name);
    }
  }
}

async function alive(pidSuffix: number): Promise<boolean> {
  // Only the last 4 digits of the pid are in the name: treat a match as alive.
  for await (const entry of Deno.readDir("/proc")) {
    if (/^\d+$/.test(entry.name) && Number(entry.name) % 10000 === pidSuffix) {
      return true;
    }
  }
  return false;
}
