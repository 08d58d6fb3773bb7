/**
 * What a test needs from the machine (root, a binary) and whether it is
 * there. A test that lacks something is registered as ignored, never run to
 * a false pass; Deno shows no reason for an ignored test, so the reason is
 * said here, once per test file. CI installs everything and sets
 * LAB_REQUIRE_ALL=1: there a missing part fails the run instead.
 */

/** Whether `command` (a path, or a name looked up on PATH) is executable. */
export function installed(command: string): boolean {
  const candidates = command.includes("/") ? [command] : (
    Deno.env.get("PATH") ?? ""
  ).split(":").filter(Boolean).map((dir) => `${dir}/${command}`);
  return candidates.some((path) => {
    try {
      const info = Deno.statSync(path);
      return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}

const said = new Set<string>();

/**
 * The names in `needs` (what, and whether this machine has it) that are
 * missing; each missing one is said on stderr the first time it is seen.
 */
export function missing(needs: Record<string, boolean>): string[] {
  const absent = Object.keys(needs).filter((what) => !needs[what]);
  if (absent.length > 0 && Deno.env.get("LAB_REQUIRE_ALL") === "1") {
    throw new Error(
      `LAB_REQUIRE_ALL=1 and no ${absent.join(", ")} here: install it`,
    );
  }
  for (const what of absent) {
    if (said.has(what)) continue;
    said.add(what);
    console.error(`No ${what} here: the tests that need it are ignored`);
  }
  return absent;
}
