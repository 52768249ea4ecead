// A LogTape sink on a Deno.FsFile. @logtape/file loads Node's fs layer
// (about 30 ms per boot); this writes with Deno's own synchronous calls.
//
// Flush policy: the first lines of each burst (the code that runs between
// two microtask checkpoints) are written at once, so a lone line is on disk
// immediately (people `tail -f` daemons), and so are the last words of a
// daemon that then blocks its event loop; the rest of a burst is batched and
// written when the burst ends, when 64 KiB pile up, or when the oldest line
// has waited 100 ms. flush() writes everything now; the daemon calls it
// (through dispose) on every exit path.

import type { LogRecord, Sink } from "@logtape/logtape";
import { openOwnFile } from "../_safe_open.ts";

const BATCH_BYTES = 64 * 1024;
const DIRECT_PER_BURST = 16;
const MAX_AGE_MS = 100;

/** A sink that also flushes on demand and reopens its file (SIGHUP, logrotate). */
export interface FileSink extends Sink, Disposable {
  flush(): void;
  reopen(): void;
}

function openLog(path: string): Deno.FsFile {
  return openOwnFile(path, { option: "logFile", code: "BAD_OPTION" }, {
    append: true,
    create: true,
  })!;
}

export function fileSink(
  path: string,
  format: (record: LogRecord) => string,
): FileSink {
  const encoder = new TextEncoder();
  let file: Deno.FsFile | null = openLog(path);
  let pending: string[] = [];
  let pendingBytes = 0;
  let oldest = 0;
  let scheduled = false;
  let failing = false;

  function write(text: string): void {
    if (file === null) return;
    try {
      const data = encoder.encode(text);
      for (let at = 0; at < data.length;) {
        at += file.writeSync(data.subarray(at));
      }
      failing = false;
    } catch (err) {
      // Keep the daemon running; say so once per failing spell, on raw stderr.
      if (!failing) {
        failing = true;
        try {
          Deno.stderr.writeSync(
            encoder.encode(
              `daemonize: cannot write log file ${path}: ${String(err)}\n`,
            ),
          );
        } catch { /* nowhere left to report */ }
      }
    }
  }

  function flush(): void {
    if (pending.length === 0) return;
    const text = pending.join("");
    pending = [];
    pendingBytes = 0;
    write(text);
  }

  let direct = 0;
  // After the code that is logging now has run: a burst in one loop is one
  // write. (A timer would cost milliseconds here; see lib/_time.ts.)
  function endOfTurn(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      direct = 0;
      flush();
    });
  }

  const sink = (record: LogRecord): void => {
    const line = format(record);
    endOfTurn();
    if (pending.length === 0 && direct < DIRECT_PER_BURST) {
      direct++;
      write(line);
      return;
    }
    const now = performance.now();
    if (pending.length === 0) oldest = now;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= BATCH_BYTES || now - oldest >= MAX_AGE_MS) flush();
  };

  return Object.assign(sink, {
    flush,
    reopen(): void {
      flush();
      const next = openLog(path);
      file?.close();
      file = next;
    },
    [Symbol.dispose](): void {
      flush();
      file?.close();
      file = null;
    },
  });
}
