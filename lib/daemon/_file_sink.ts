// A LogTape sink on a Deno.FsFile. @logtape/file loads Node's fs layer
// (about 30 ms per boot); this writes with Deno's own synchronous calls.
//
// Flush policy: the first lines of each turn (the code that runs between
// two microtask checkpoints) are written at once, so a lone line is on disk
// immediately (people `tail -f` daemons); the rest of a turn is batched and
// written when the turn ends, when 64 KiB pile up, or when a new line finds
// the oldest pending one 100 ms old. flush() writes everything now; the
// daemon calls it (through dispose) on every exit path. The limit that
// remains: lines batched in a turn that never ends (an event loop that
// blocks forever) stay in memory; docs/reliability.md says exactly which.
//
// The writes themselves, whole records only and the lines a full disk
// loses counted and reported, are _record_writer.ts's.

import { writeStderr } from "./_stderr.ts";
import type { LogRecord, Sink } from "@logtape/logtape";
import { openOwnFile } from "../_safe_open.ts";
import type { Formatter } from "./_format.ts";
import { BATCH_BYTES, recordWriter } from "./_record_writer.ts";

const DIRECT_PER_TURN = 16;
const MAX_AGE_MS = 100;
const RETRY_MS = 1000;
// LogTape copies a record's properties for each sink before handing it on,
// in case the sink formats it later; a sink marked with this global symbol
// (as LogTape's own synchronous sinks are) gets the record as it is. This
// one formats every record before it returns.
const IMMEDIATE = Symbol.for("LogTape.sinkSnapshotPolicy.immediate");

/** A sink that also flushes on demand and reopens its file (SIGHUP, logrotate). */
export interface FileSink extends Sink, Disposable {
  /** Writes every pending record now. */
  flush(): void;
  /** Reopens the file by its path; throws (a DaemonError) when it cannot. */
  reopen(): void;
}

/** Where and how the sink writes. */
export interface FileSinkOptions {
  /** The log file; created when missing, never through a symlink. */
  path: string;
  /** Turns a record into its line. */
  format: Formatter;
  /** The mode of a file the sink creates (exactly, whatever the process umask). */
  mode: number;
  /** The category of the sink's own report of lost lines. Default `["daemonize"]`. */
  category?: readonly string[];
  /** Where the start of a failing spell is said at once. Default: raw stderr. */
  alert?: (text: string) => void;
  /** How often a failing sink tries again when nothing new is logged, in ms. Default 1000. */
  retryMs?: number;
}

/** Opens (or creates) `path` for appending and returns a sink writing to it. */
export function fileSink(options: FileSinkOptions): FileSink {
  const { path, format } = options;
  const open = () =>
    openOwnFile(path, { option: "logFile", code: "BAD_OPTION" }, {
      read: true,
      append: true,
      create: true,
      createMode: options.mode,
    })!;
  const writer = recordWriter(open(), {
    path,
    format,
    category: options.category ?? ["daemonize"],
    alert: options.alert ?? writeStderr,
    retryMs: options.retryMs ?? RETRY_MS,
  });
  let pending: string[] = [];
  let pendingBytes = 0;
  let oldest = 0;
  let direct = 0;
  let scheduled = false;

  function flush(): void {
    if (pending.length === 0) return;
    const records = pending;
    pending = [];
    pendingBytes = 0;
    writer.write(records);
  }

  // After the code that is logging now has run: a burst in one turn is one
  // write. (A timer would cost milliseconds here; see lib/_time.ts.)
  function endOfTurn(): void {
    scheduled = false;
    direct = 0;
    flush();
  }

  const sink = (record: LogRecord): void => {
    const line = format(record);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(endOfTurn);
    }
    if (pending.length === 0 && direct < DIRECT_PER_TURN) {
      direct++;
      writer.write([line]);
      return;
    }
    if (pending.length === 0) oldest = record.timestamp;
    pending.push(line);
    pendingBytes += line.length;
    if (pendingBytes >= BATCH_BYTES || record.timestamp - oldest >= MAX_AGE_MS) flush();
  };
  Object.defineProperty(sink, IMMEDIATE, { value: true });

  return Object.assign(sink, {
    flush,
    reopen(): void {
      if (writer.closed) return; // disposed of (a configuration that replaced the library's)
      flush();
      writer.replace(open());
    },
    [Symbol.dispose](): void {
      flush();
      writer.close();
    },
  });
}
