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
// Whole records only: when the disk is full, a write that got only part of a
// record out is cut back to the record boundary (or, when the file's end is
// no longer ours to cut, completed first once writing works again), the
// records that could not be written are counted, and the first write that
// works again starts with a record saying how many were lost and when.

import type { LogRecord, Sink } from "@logtape/logtape";
import { openOwnFile } from "../_safe_open.ts";
import type { Formatter } from "./_format.ts";

const BATCH_BYTES = 64 * 1024;
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

function stderrAlert(text: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  } catch { /* nowhere left to say it */ }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Opens (or creates) `path` for appending and returns a sink writing to it. */
export function fileSink(options: FileSinkOptions): FileSink {
  const { path, format } = options;
  const category = options.category ?? ["daemonize"];
  const alert = options.alert ?? stderrAlert;
  const encoder = new TextEncoder();
  const open = () =>
    openOwnFile(path, { option: "logFile", code: "BAD_OPTION" }, {
      read: true,
      append: true,
      create: true,
      createMode: options.mode,
    })!;
  let file: Deno.FsFile | null = open();
  let pending: string[] = [];
  let pendingBytes = 0;
  let oldest = 0;
  let direct = 0;
  let scheduled = false;

  // A failing spell: what was lost, since when, and why.
  let lost = 0;
  let failingSince = 0;
  let lastFailure = 0;
  let lastError = "";
  // The rest of a record cut short that could not be cut back.
  let torn: Uint8Array | null = null;
  let retryTimer: ReturnType<typeof setInterval> | null = null;

  function lossRecord(): string {
    const properties = {
      path,
      from: new Date(failingSince).toISOString(),
      to: new Date(lastFailure).toISOString(),
      error: lastError,
      lost,
    };
    const record: LogRecord = {
      category,
      level: "error",
      rawMessage: `log file {path} could not be written from {from} to {to} ({error}): {lost} ${
        lost === 1 ? "line" : "lines"
      } lost`,
      message: [
        "log file ",
        properties.path,
        " could not be written from ",
        properties.from,
        " to ",
        properties.to,
        " (",
        properties.error,
        "): ",
        lost,
        ` ${lost === 1 ? "line" : "lines"} lost`,
      ],
      timestamp: Date.now(),
      properties,
    };
    return format(record);
  }

  // Takes back the start of a record that a failed write left at the end
  // of the file, when the file's end is provably those bytes.
  function cutBack(f: Deno.FsFile, written: Uint8Array): boolean {
    try {
      const size = f.statSync().size;
      if (size < written.length) return false;
      f.seekSync(size - written.length, Deno.SeekMode.Start);
      const back = new Uint8Array(written.length);
      let n = 0;
      while (n < back.length) {
        const got = f.readSync(back.subarray(n));
        if (got === null) return false;
        n += got;
      }
      if (!sameBytes(back, written)) return false;
      f.truncateSync(size - written.length);
      return true;
    } catch {
      return false;
    }
  }

  function failed(err: unknown, batch: string[], data: Uint8Array, at: number, report: boolean) {
    const f = file!;
    // Which records got out whole, and how much of the next one.
    let end = 0;
    let whole = 0;
    for (; whole < batch.length; whole++) {
      const next = end + encoder.encode(batch[whole]).length;
      if (next > at) break;
      end = next;
    }
    if (at > end) {
      const recordEnd = end + encoder.encode(batch[whole]).length;
      if (!cutBack(f, data.subarray(end, at))) {
        torn = data.slice(at, recordEnd);
        whole++;
      }
    }
    const now = Date.now();
    if (failingSince === 0 || (report && whole > 0)) {
      // A new spell (the report of the last one is out, or on its way).
      if (failingSince === 0) {
        alert(`daemonize: cannot write log file ${path}: ${describe(err)}; counting lost lines\n`);
      }
      failingSince = now;
      lost = 0;
    }
    lost += batch.length - whole - (report && whole === 0 ? 1 : 0);
    lastFailure = now;
    lastError = describe(err);
    if (retryTimer === null) {
      // Retries alone when no new line comes; never keeps the process alive.
      const timer = setInterval(() => {
        if (failingSince !== 0) write([]);
      }, options.retryMs ?? RETRY_MS);
      if (typeof timer === "number") Deno.unrefTimer(timer);
      else timer.unref();
      retryTimer = timer;
    }
  }

  // Writes `records` as one write; after a failing spell, first the end of
  // a torn record and the report of what was lost.
  function write(records: string[]): void {
    const f = file;
    if (f === null) return;
    const failing = failingSince !== 0;
    if (torn !== null) {
      try {
        writeAll(f, torn);
        torn = null;
      } catch (err) {
        lost += records.length;
        lastFailure = Date.now();
        lastError = describe(err);
        return;
      }
    }
    const batch = failing ? [lossRecord(), ...records] : records;
    if (batch.length === 0) return;
    const data = encode(batch.length === 1 ? batch[0] : batch.join(""));
    let at = 0;
    try {
      while (at < data.length) at += f.writeSync(data.subarray(at));
    } catch (err) {
      failed(err, batch, data, at, failing);
      return;
    }
    if (failing) {
      lost = 0;
      failingSince = 0;
      clearInterval(retryTimer!);
      retryTimer = null;
    }
  }

  // Into one buffer reused from write to write: allocating a fresh one for
  // each batch costs more than encoding it.
  let buffer = new Uint8Array(BATCH_BYTES * 2);
  function encode(text: string): Uint8Array {
    if (text.length * 3 > buffer.length) {
      if (text.length > BATCH_BYTES * 4) return encoder.encode(text);
      buffer = new Uint8Array(text.length * 3);
    }
    return buffer.subarray(0, encoder.encodeInto(text, buffer).written);
  }

  function writeAll(f: Deno.FsFile, data: Uint8Array): void {
    for (let at = 0; at < data.length;) at += f.writeSync(data.subarray(at));
  }

  function flush(): void {
    if (pending.length === 0) return;
    const records = pending;
    pending = [];
    pendingBytes = 0;
    write(records);
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
      write([line]);
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
      if (file === null) return; // disposed of (a configuration that replaced the library's)
      flush();
      const next = open();
      if (torn !== null) {
        // The old file keeps its half record only if it cannot take the rest.
        try {
          writeAll(file!, torn);
        } catch { /* given up with the old file */ }
        torn = null;
      }
      file?.close();
      file = next;
    },
    [Symbol.dispose](): void {
      flush();
      if (failingSince !== 0) write([]);
      if (retryTimer !== null) clearInterval(retryTimer);
      retryTimer = null;
      file?.close();
      file = null;
    },
  });
}
