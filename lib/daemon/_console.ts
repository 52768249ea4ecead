// In daemon mode console.* goes into the log (with timestamps and levels)
// rather than to raw stdout/stderr.

import type { Logger } from "@logtape/logtape";

const LEVELS = {
  log: "info",
  info: "info",
  debug: "debug",
  trace: "debug",
  warn: "warning",
  error: "error",
} as const;

function text(args: unknown[]): string {
  const line = args.map((a) => typeof a === "string" ? a : Deno.inspect(a, { colors: false })).join(
    " ",
  );
  // LogTape reads {name} as a placeholder; {{ and }} are literal braces.
  return line.replaceAll("{", "{{").replaceAll("}", "}}");
}

/** Routes console.log/info/debug/trace/warn/error to `logger`. */
export function captureConsole(logger: Logger): void {
  for (const [method, level] of Object.entries(LEVELS)) {
    Object.defineProperty(console, method, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => logger[level](text(args)),
    });
  }
}
