// The launcher's end of the readiness channel: the keeper's pipe carries
// the daemon's one ready (or failed) line, the keeper's report when the
// daemon ended before that, and raw output from before the daemon had its
// files ("raw <line>" for stderr, "rawout <line>" for stdout). Everything
// comes through the keeper's copier, in the order it was written, so the
// daemon's own last words come before the keeper's report of its exit. The
// end of the pipe without a ready line is a failure, never "started".

import type { ReadyMessage } from "../_launch.ts";
import { within } from "../_time.ts";
import type { RawFile } from "./_output.ts";

/** What the channel said. */
export type ReadyWord =
  | { kind: "ready"; pid: number; mainPid: number; startedAt: Date | null }
  | { kind: "failed"; code: string; message: string }
  | { kind: "exited"; code: number }
  | { kind: "silent" }
  | { kind: "timeout" };

/** Where raw lines passed back by the keeper go. */
export interface RawSinks {
  stderr: RawFile | null;
  stdout: RawFile | null;
}

/** Splits what `reader` reads into lines; null at the end. */
function lineReader(reader: ReadableStreamDefaultReader<Uint8Array>): () => Promise<string | null> {
  const decoder = new TextDecoder();
  let text = "";
  let done = false;
  return async () => {
    for (;;) {
      const end = text.indexOf("\n");
      if (end >= 0) {
        const line = text.slice(0, end);
        text = text.slice(end + 1);
        return line;
      }
      if (done) {
        const rest = text;
        text = "";
        return rest === "" ? null : rest;
      }
      const chunk = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (chunk.done) done = true;
      else text += decoder.decode(chunk.value, { stream: true });
    }
  };
}

function word(line: string, raw: RawSinks): ReadyWord | null {
  if (line.startsWith("raw ")) {
    raw.stderr?.append(line.slice(4));
    return null;
  }
  if (line.startsWith("rawout ")) {
    raw.stdout?.append(line.slice(7));
    return null;
  }
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    raw.stderr?.append(line);
    return null;
  }
  const m = message as Partial<ReadyMessage> & { exit?: number };
  if (typeof m.exit === "number") return { kind: "exited", code: m.exit };
  if (m.ok === true && typeof m.pid === "number") {
    const at = typeof m.startedAt === "string" ? new Date(m.startedAt) : null;
    return {
      kind: "ready",
      pid: m.pid,
      mainPid: typeof m.mainPid === "number" ? m.mainPid : m.pid,
      startedAt: at !== null && !isNaN(at.getTime()) ? at : null,
    };
  }
  if (m.ok === false) {
    return {
      kind: "failed",
      code: String(m.code),
      message: String(m.message),
    };
  }
  return null;
}

/**
 * Reads the channel until the daemon is ready or has failed, for at most
 * `ms`. The caller cancels `reader` afterwards.
 */
export async function readReadiness(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  raw: RawSinks,
  ms: number,
): Promise<ReadyWord> {
  const next = lineReader(reader);
  const deadline = performance.now() + ms;
  for (;;) {
    const line = await within(next(), Math.max(0, deadline - performance.now()));
    if (line === "timeout") return { kind: "timeout" };
    if (line === null) return { kind: "silent" };
    const got = word(line, raw);
    if (got !== null) return got;
  }
}
