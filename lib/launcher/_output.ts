// The files a start touches before the daemon runs: its raw output files,
// created the safe way (never through a symlink) with the daemon's umask
// and kept open, so that raw output the keeper passes back before the
// daemon is up, and the tail a failed start shows, go through this handle
// and never through a path someone could swap; its stdin; its cwd.

import { DaemonError } from "../errors.ts";
import { NULL_DEVICE } from "../_option_paths.ts";
import { inspectPath, openOwnFile } from "../_safe_open.ts";

const TAIL_LINES = 20;
const TAIL_BYTES = 8192;

/** A raw output file of the daemon, as the launcher holds it. */
export class RawFile {
  #file: Deno.FsFile;
  #start: number;
  /** Its path. */
  readonly path: string;

  private constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.path = path;
    this.#start = file.statSync().size;
  }

  /**
   * Creates or opens `path` for the daemon, or returns null for the null
   * device. `option` names it in messages.
   */
  static open(
    option: "stdout" | "stderr" | "logFile",
    path: string,
    umask: number,
  ): RawFile | null {
    if (path === NULL_DEVICE) return null;
    const file = openOwnFile(path, { option, code: "BAD_OPTION" }, {
      read: true,
      append: true,
      create: true,
      createMode: 0o644 & ~umask,
    })!;
    return new RawFile(file, path);
  }

  /** `dev:ino`, to recognise the file elsewhere. */
  get id(): string {
    const info = this.#file.statSync();
    return `${info.dev}:${info.ino}`;
  }

  /** Appends one line of raw output. */
  append(line: string): void {
    try {
      this.#file.writeSync(new TextEncoder().encode(line + "\n"));
    } catch {
      // The daemon's own output, passed on best-effort; the start goes on.
    }
  }

  /** The last lines written since this start began, for error messages. */
  tail(): string {
    try {
      const size = this.#file.statSync().size;
      const from = Math.max(this.#start, size - TAIL_BYTES);
      this.#file.seekSync(from, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - from);
      let n = 0;
      while (n < buf.length) {
        const got = this.#file.readSync(buf.subarray(n));
        if (got === null) break;
        n += got;
      }
      const lines = new TextDecoder().decode(buf.subarray(0, n)).trimEnd().split("\n")
        .slice(-TAIL_LINES);
      return lines.join("\n").trim() === ""
        ? `(nothing written to ${this.path})`
        : `last lines of ${this.path}:\n${lines.join("\n")}`;
    } catch {
      return `(cannot read ${this.path})`;
    }
  }

  /** Lets the file go. */
  close(): void {
    this.#file.close();
  }
}

/** Throws unless `path` (the `stdin` option) is a readable file or the null device. */
export function checkInput(path: string): void {
  if (path === NULL_DEVICE) return;
  if (inspectPath(path, { option: "stdin", code: "BAD_OPTION" }) === null) {
    throw new DaemonError("BAD_OPTION", `option "stdin" names "${path}", which does not exist`);
  }
  try {
    Deno.openSync(path, { read: true }).close();
  } catch (err) {
    throw new DaemonError(
      "PERMISSION",
      `option "stdin" names "${path}", which cannot be read: ${String(err)}`,
      { cause: err },
    );
  }
}

/** Throws unless `cwd` is a directory. */
export function checkCwd(cwd: string): void {
  let ok = false;
  try {
    ok = Deno.statSync(cwd).isDirectory;
  } catch { /* reported below */ }
  if (!ok) {
    throw new DaemonError("BAD_OPTION", `option "cwd" names "${cwd}", which is not a directory`);
  }
}
