// The daemon's raw output files. The daemon's own descriptors 1 and 2 are
// pipes to the keeper, which appends what comes through to the file the
// launcher created, and after a rotation (SIGHUP) to the file the daemon
// names: how raw output follows the log without a dup2, which Deno does not
// have.

import { NULL_DEVICE } from "../_option_paths.ts";
import { openOwnFile } from "../_safe_open.ts";
import type { ResolvedDaemonOptions } from "../types.ts";
import type { KeeperChannel } from "./_channel.ts";

/** The files raw stdout and stderr go to, as the daemon holds them. */
export class RawTargets {
  #options: ResolvedDaemonOptions;
  #channel: KeeperChannel;
  #files: Deno.FsFile[] = [];

  private constructor(options: ResolvedDaemonOptions, channel: KeeperChannel) {
    this.#options = options;
    this.#channel = channel;
  }

  /**
   * The daemon's raw output files; until a rotation the keeper writes to the
   * ones the launcher created.
   */
  static open(options: ResolvedDaemonOptions, channel: KeeperChannel): RawTargets {
    return new RawTargets(options, channel);
  }

  #open(option: "stdout" | "stderr"): Deno.FsFile | null {
    const path = this.#options[option];
    if (path === NULL_DEVICE) return null;
    return openOwnFile(
      path,
      { option: path === this.#options.logFile ? "logFile" : option, code: "BAD_OPTION" },
      { append: true, create: true, createMode: 0o644 & ~this.#options.umask },
    );
  }

  /**
   * Opens the files at their paths again (after a rotation) and names them
   * to the keeper. The old files stay open until the keeper has had time to
   * switch: it looks the new one up among this process's open files.
   *
   * @throws {DaemonError} when a file cannot be opened; the keeper then goes
   * on writing to the old one.
   */
  reopen(): void {
    const { stdout, stderr } = this.#options;
    const err = this.#open("stderr");
    const out = stdout === stderr ? null : this.#open("stdout");
    const old = this.#files;
    this.#files = [err, out].filter((f): f is Deno.FsFile => f !== null);
    if (err !== null) this.#channel.target("stderr", err);
    if (out !== null) this.#channel.target("stdout", out);
    if (old.length > 0) {
      Deno.unrefTimer(setTimeout(() => old.forEach((f) => f.close()), 1000));
    }
  }
}
