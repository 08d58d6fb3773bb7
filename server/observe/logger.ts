/**
 * One JSON object per line on stdout (stderr for warn and error), so logs can
 * be shipped and queried as they are. Callers pass ids, types and sizes:
 * never SDP bodies or ICE candidates, which carry addresses.
 */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

/** Where finished lines go; tests pass an array's push. */
export type LogSink = (line: string, level: LogLevel) => void;

/**
 * Lines waiting for a 0 ms timer (it fires 1-7 ms later here, so the lines
 * of a few event-loop turns), per stream: written in one write each. A
 * write per line (`console.log`) cost ~4 µs, and the
 * default level logs an audit line per admission, join and leave: ~10% of
 * the server's CPU in a burst of joins (bench/RESULTS.md). Written out on
 * exit and on an uncaught error too, so a crash keeps its last lines.
 */
const pending = { out: [] as string[], err: [] as string[] };
let flushTimer: ReturnType<typeof setTimeout> | undefined;
const encoder = new TextEncoder();

function flushLines(): void {
  clearTimeout(flushTimer);
  flushTimer = undefined;
  writeLines(Deno.stdout, pending.out);
  writeLines(Deno.stderr, pending.err);
}

/**
 * At most this much in one write, cut at a line's end: a pipe takes up to
 * PIPE_BUF (4,096 bytes on Linux) in one piece, so processes sharing one
 * stdout (PROCESSES) never split each other's lines. A longer line is
 * written alone, as `console.log` would.
 */
export const WRITE_MAX = 4_096;

/** Writes `lines` (emptying the array) in writes of at most {@link WRITE_MAX}. */
export function writeLines(
  stream: { writeSync(bytes: Uint8Array): number },
  lines: string[],
): void {
  if (lines.length === 0) return;
  const bytes = encoder.encode(`${lines.join("\n")}\n`);
  lines.length = 0;
  try {
    for (let start = 0, end = 0; start < bytes.length; start = end) {
      end = bytes.length;
      if (end - start > WRITE_MAX) {
        const cut = bytes.lastIndexOf(10, start + WRITE_MAX - 1);
        end = (cut >= start ? cut : bytes.indexOf(10, start + WRITE_MAX)) + 1;
      }
      for (let at = start; at < end;) {
        at += stream.writeSync(bytes.subarray(at, end));
      }
    }
  } catch {
    // Nobody reads the log any more (a closed pipe): the server goes on.
  }
}

let listening = false;

function consoleSink(line: string, level: LogLevel): void {
  (level === "warn" || level === "error" ? pending.err : pending.out).push(
    line,
  );
  if (flushTimer !== undefined) return;
  const timer = flushTimer = setTimeout(flushLines, 0);
  // The lines do not keep the process alive: exit writes them.
  Deno.unrefTimer(timer);
  if (listening) return;
  listening = true;
  for (const event of ["unload", "error", "unhandledrejection"]) {
    globalThis.addEventListener(event, flushLines);
  }
}

export function createLogger(
  level: LogLevel,
  sink: LogSink = consoleSink,
): Logger {
  const threshold = RANK[level];
  const write = (at: LogLevel) => (event: string, fields?: LogFields) => {
    if (RANK[at] < threshold) return;
    // The fields' own JSON after ours, without a merged copy: callers do
    // not name a field `time`, `level` or `event` (it would come twice).
    // Undefined fields are left out by JSON.stringify.
    const rest = fields ? JSON.stringify(fields).slice(1) : "}";
    sink(
      `{"time":"${new Date().toISOString()}","level":"${at}","event":${
        JSON.stringify(event)
      }${rest === "}" ? "" : ","}${rest}`,
      at,
    );
  };
  return {
    level,
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}
