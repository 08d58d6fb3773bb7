/**
 * The resume key of a single node without RESUME_SECRET or SIGNAL_SECRET,
 * kept in a file under STATE_DIR so that claims issued before a restart
 * verify after it (zero-config durability). Made once, at the first start:
 * 32 random bytes, written to a temporary file (mode 0600, in a directory
 * made 0700), synced, then put in place in one step. The last step is a
 * hard link rather than a rename: it never replaces a key another process
 * put there first (two starts racing on one directory both end up with the
 * winner's key); where the filesystem has no hard links, a rename.
 *
 * Deleting the file rotates the key: every earlier claim is then refused.
 * Several nodes (REDIS_URL) share theirs through Redis instead.
 */
import { resolve } from "node:path";

/** STATE_DIR's default, the one `deno task start` may write. */
export const DEFAULT_STATE_DIR = ".live-widgets-state";
/** The file under STATE_DIR that holds the key, 64 hex digits. */
export const RESUME_KEY_FILE = "resume-key";
const HEX_KEY = /^[0-9a-f]{64}\n?$/;

/**
 * STATE_DIR cannot be used: the message names the path and what to do; the
 * server prints it and exits 2, like an invalid setting.
 */
export class StateDirError extends Error {
  override name = "StateDirError";
}

export interface StateKey {
  /** The key, hex. */
  hexKey: string;
  /** The file it is kept in (absolute). */
  path: string;
  /** Made by this start (the first one with this STATE_DIR). */
  created: boolean;
  /** The file was readable by others and has been made 0600. */
  tightened: boolean;
}

/** Reads the key kept in `dir`, making both on the first start. */
export function loadStateKey(dir: string): StateKey {
  const path = resolve(dir, RESUME_KEY_FILE);
  try {
    const existing = readKey(path);
    if (existing !== undefined) {
      return {
        hexKey: existing,
        path,
        created: false,
        tightened: tighten(path),
      };
    }
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { ...create(path), path, tightened: false };
  } catch (error) {
    if (error instanceof StateDirError) throw error;
    throw new StateDirError(advice(dir, path, error));
  }
}

/** The key in `path`, `undefined` when there is no such file. */
function readKey(path: string): string | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  if (!HEX_KEY.test(text)) {
    throw new StateDirError(
      `STATE_DIR: ${path} does not hold a resume key (64 hex digits). ` +
        "Delete it to make a new key (claims issued before are then refused), " +
        "or set RESUME_SECRET.",
    );
  }
  return text.slice(0, 64);
}

/** Writes a new key; with one put there meanwhile by another start, that one. */
function create(path: string): { hexKey: string; created: boolean } {
  const hexKey = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  const file = Deno.openSync(temporary, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    file.writeSync(new TextEncoder().encode(`${hexKey}\n`));
    file.syncSync();
  } finally {
    file.close();
  }
  try {
    Deno.linkSync(temporary, path);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      Deno.removeSync(temporary);
      return { hexKey: readKey(path)!, created: false };
    }
    // No hard links here (some network and FUSE filesystems).
    try {
      Deno.renameSync(temporary, path);
    } catch {
      Deno.removeSync(temporary);
      throw error;
    }
    return { hexKey, created: true };
  }
  Deno.removeSync(temporary);
  return { hexKey, created: true };
}

/** Makes a key file others could read 0600; whether it had to. */
function tighten(path: string): boolean {
  if (Deno.build.os === "windows") return false;
  const mode = Deno.statSync(path).mode;
  if (mode === null || (mode & 0o077) === 0) return false;
  Deno.chmodSync(path, 0o600);
  return true;
}

/** What went wrong with `dir`, and the ways out. */
function advice(dir: string, path: string, error: unknown): string {
  const why = error instanceof Deno.errors.NotCapable
    ? `Deno may not use it: run with --allow-read --allow-write=${dir}` +
      (dir === DEFAULT_STATE_DIR
        ? ""
        : ` (deno task start allows ${DEFAULT_STATE_DIR} only)`)
    : (error as Error).message ?? String(error);
  return `STATE_DIR: cannot keep the resume key in ${path}: ${why}. ` +
    "Point STATE_DIR at a directory this user may write, or set RESUME_SECRET " +
    "(then nothing is written).";
}
