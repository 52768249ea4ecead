// Writes a log sink's records to its file, whole records only: when the
// disk is full, a write that got only part of a record out is cut back to
// the record boundary (or, when the file's end is no longer ours to cut,
// completed first once writing works again), the records that could not be
// written are counted, and the first write that works again starts with a
// record saying how many were lost and when.

import type { LogRecord } from "@logtape/logtape";
import type { Formatter } from "./_format.ts";

/** The most a sink batches into one write; the encoding buffer is sized for it. */
export const BATCH_BYTES = 64 * 1024;

/** What the writer needs to report a failing spell. */
export interface RecordWriterOptions {
  /** The log file's path, for the report. */
  path: string;
  /** Turns a record into its line: the report of lost lines is one too. */
  format: Formatter;
  /** The category of the report of lost lines. */
  category: readonly string[];
  /** Where the start of a failing spell is said at once. */
  alert: (text: string) => void;
  /** How often a failing writer tries again when nothing new is written, in ms. */
  retryMs: number;
}

/** Whole records into one file, and the count of those the file would not take. */
export interface RecordWriter {
  /**
   * Writes `records` as one write; after a failing spell, first the end of
   * a torn record and the report of what was lost.
   */
  write(records: string[]): void;
  /** Whether {@linkcode RecordWriter.close} has run. */
  readonly closed: boolean;
  /** Goes on in `next`, and closes the file it wrote to until now. */
  replace(next: Deno.FsFile): void;
  /** Writes the report of a failing spell if it can, and closes the file. */
  close(): void;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function writeAll(f: Deno.FsFile, data: Uint8Array): void {
  for (let at = 0; at < data.length;) at += f.writeSync(data.subarray(at));
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

/** A writer of whole records to `first`, which it now owns, and later files. */
export function recordWriter(first: Deno.FsFile, options: RecordWriterOptions): RecordWriter {
  const { path, format, category, alert } = options;
  const encoder = new TextEncoder();
  let file: Deno.FsFile | null = first;

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
      }, options.retryMs);
      Deno.unrefTimer(timer);
      retryTimer = timer;
    }
  }

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

  return {
    write,
    get closed(): boolean {
      return file === null;
    },
    replace(next: Deno.FsFile): void {
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
    close(): void {
      if (failingSince !== 0) write([]);
      if (retryTimer !== null) clearInterval(retryTimer);
      retryTimer = null;
      file?.close();
      file = null;
    },
  };
}
