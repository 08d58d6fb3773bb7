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

function consoleSink(line: string, level: LogLevel): void {
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}

export function createLogger(
  level: LogLevel,
  sink: LogSink = consoleSink,
): Logger {
  const threshold = RANK[level];
  const write = (at: LogLevel) => (event: string, fields?: LogFields) => {
    if (RANK[at] < threshold) return;
    sink(
      JSON.stringify({
        time: new Date().toISOString(),
        level: at,
        event,
        ...fields,
      }),
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
