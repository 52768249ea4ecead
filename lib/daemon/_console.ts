// In daemon mode console.* goes into the log (with timestamps and levels)
// rather than to raw stdout/stderr, while the library's own configuration
// is in force. A console call made while a captured one is being logged (a
// sink that writes to the console) and any call once `active()` says the
// configuration is no longer the library's go to the real console, so
// console output never loops back into LogTape.

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

/**
 * Routes console.log/info/debug/trace/warn/error to `logger` while `active()`
 * holds; returns a function that puts the real console back.
 */
export function captureConsole(logger: Logger, active: () => boolean = () => true): () => void {
  const original = new Map<string, PropertyDescriptor>();
  let inside = false;
  for (const [method, level] of Object.entries(LEVELS)) {
    const real = Object.getOwnPropertyDescriptor(console, method)!;
    original.set(method, real);
    const call = real.value as (...args: unknown[]) => void;
    Object.defineProperty(console, method, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => {
        if (inside || !active()) return call.apply(console, args);
        inside = true;
        try {
          logger[level](text(args));
        } finally {
          inside = false;
        }
      },
    });
  }
  return () => {
    for (const [method, descriptor] of original) Object.defineProperty(console, method, descriptor);
  };
}
