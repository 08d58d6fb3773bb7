/**
 * A certificate authority made for one test run, a server certificate it
 * signs for a name and an address (a TURN server's, for `turns:`), and two
 * ways to make a browser trust it (`browserTrust`), both checked against
 * TURN over TLS in Chromium and Firefox (tests/e2e/turn-tcp.test.ts).
 * Nothing outside the browser's own profile changes.
 *
 * - "ca": the CA in the browser's own NSS certificate store, as a
 *   company's machines trust its private CA. Needs `certutil` (Debian's
 *   libnss3-tools). Chromium reads `$HOME/.pki/nssdb` on Linux, so it gets
 *   a `HOME` of its own; Firefox reads `cert9.db` in its profile.
 * - "certificate": this one certificate accepted, nothing installed:
 *   Chromium's `--ignore-certificate-errors-spki-list` (base64 SHA-256 of
 *   the key; Chromium applies it to the TLS it makes for TURN too, and only
 *   with `--user-data-dir`), Firefox's `cert_override.txt` in its profile
 *   (an exception for host:port and the certificate's SHA-256, what
 *   "Accept the risk" writes).
 *
 * `--ignore-certificate-errors` trusts everything, and is not used.
 */
import selfsigned from "selfsigned";

export interface TestCa {
  /** The CA's certificate (PEM): what the browsers trust. */
  caCert: string;
  /** The server's certificate chain (its own, then the CA's) and key (PEM). */
  cert: string;
  key: string;
  /** base64(SHA-256(SubjectPublicKeyInfo)) of the server's key. */
  spki: string;
  /** SHA-256 of the server's certificate, as `AB:CD:…`. */
  fingerprint: string;
}

/**
 * A fresh CA and a server certificate for `host` and `ip`, valid one day.
 * (Firefox makes TLS to a TURN server only by name: `turns:` with an IP
 * address is dropped, "Refuse to try TLS without an FQDN" in its source.)
 */
export async function makeTestCa(host: string, ip: string): Promise<TestCa> {
  const notAfterDate = new Date(Date.now() + 86_400_000);
  const ca = await selfsigned.generate(
    [{ name: "commonName", value: "live-widgets test CA" }],
    {
      keyType: "ec",
      algorithm: "sha256",
      notAfterDate,
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      ],
    },
  );
  const server = await selfsigned.generate(
    [{ name: "commonName", value: host }],
    {
      keyType: "ec",
      algorithm: "sha256",
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: "basicConstraints", cA: false, critical: true },
        { name: "keyUsage", digitalSignature: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: [{ type: 2, value: host }, { type: 7, ip }],
        },
      ],
    },
  );
  const spkiDer = pemBody(server.public);
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", spkiDer),
  );
  const certDigest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", pemBody(server.cert)),
  );
  return {
    fingerprint: [...certDigest].map((b) =>
      b.toString(16).toUpperCase().padStart(2, "0")
    ).join(":"),
    caCert: ca.cert,
    cert: `${server.cert.trim()}\n${ca.cert.trim()}\n`,
    key: server.private,
    spki: btoa(String.fromCharCode(...digest)),
  };
}

function pemBody(pem: string): Uint8Array<ArrayBuffer> {
  const base64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

/**
 * Makes an NSS certificate store in `dir` (created if missing) that trusts
 * `caCert` to identify servers. Needs `certutil`.
 */
export async function trustInNssDb(dir: string, caCert: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/test-ca.pem`;
  await Deno.writeTextFile(file, caCert);
  const certutil = async (...args: string[]) => {
    const { success, stderr } = await new Deno.Command("certutil", {
      args,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) {
      throw new Error(
        `certutil ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`,
      );
    }
  };
  await certutil("-N", "-d", `sql:${dir}`, "--empty-password");
  // "C,,": a CA trusted to issue server certificates.
  await certutil(
    "-A",
    "-d",
    `sql:${dir}`,
    "-n",
    "live-widgets test CA",
    "-t",
    "C,,",
    "-i",
    file,
  );
  await Deno.remove(file);
}

export type BrowserTrust = "ca" | "certificate";

/**
 * Makes a browser about to start with `profile` trust `ca`'s server
 * certificate (served at `host`:`port`) the way `how` says; returns what it
 * must be started with.
 */
export async function browserTrust(
  browser: "chromium" | "firefox",
  profile: string,
  ca: TestCa,
  how: BrowserTrust,
  host: string,
  port: number,
): Promise<{ args: string[]; env: Record<string, string> }> {
  if (how === "ca") {
    if (browser === "firefox") {
      await trustInNssDb(profile, ca.caCert);
      return { args: [], env: {} };
    }
    const home = `${profile}/home`;
    await trustInNssDb(`${home}/.pki/nssdb`, ca.caCert);
    return { args: [], env: { HOME: home } };
  }
  if (browser === "chromium") {
    return {
      args: [`--ignore-certificate-errors-spki-list=${ca.spki}`],
      env: {},
    };
  }
  await Deno.writeTextFile(
    `${profile}/cert_override.txt`,
    [
      "# PSM Certificate Override Settings file",
      "# This is a generated file!  Do not edit.",
      `${host}:${port}:\tOID.2.16.840.1.101.3.4.2.1\t${ca.fingerprint}\t`,
      "",
    ].join("\n"),
  );
  return { args: [], env: {} };
}
