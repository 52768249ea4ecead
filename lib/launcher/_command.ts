// The command line a start runs: the keeper shell, its arguments, and the
// Deno command it runs the program with.

import { DaemonError } from "../errors.ts";
import { NULL_DEVICE } from "../_option_paths.ts";
import type { ResolvedDaemonOptions } from "../types.ts";
import { KEEPER, KEEPER_BOOT, KEEPER_ENV } from "./_keeper.ts";
import { missingRunGrants, permissionFlags } from "./_permissions.ts";
import { SHELL } from "./_shell.ts";

/** Where the program is and what it is given. */
export interface ProgramRef {
  /** The main module: an absolute file path or URL. */
  module: string;
  /** The program's own arguments (its `ctx.args`). */
  args: readonly string[];
  /** Extra `deno run` flags (the `denoArgs` option). */
  denoArgs: readonly string[];
}

/**
 * The Deno command that runs the program again, with this process's
 * permission grants rebuilt (lib/launcher/_permissions.ts).
 */
export function denoCommand(program: ProgramRef): string[] {
  const exec = Deno.execPath();
  if (Deno.build.standalone) {
    // A compiled program holds one module: its own.
    if (program.module !== Deno.mainModule) {
      throw new DaemonError(
        "UNSUPPORTED",
        `a compiled program can run only itself, not ${program.module}`,
      );
    }
    return [exec, ...program.args];
  }
  return [
    exec,
    "run",
    "--no-prompt",
    ...permissionFlags(program.denoArgs),
    ...program.denoArgs,
    program.module,
    ...program.args,
  ];
}

/** Throws `PERMISSION` unless this process may run the shell and Deno. */
export function checkRunPermission(): void {
  const missing = missingRunGrants([SHELL, Deno.execPath()]);
  if (missing.length > 0) {
    throw new DaemonError(
      "PERMISSION",
      `start needs permission to run ${
        missing.join(" and ")
      }: add --allow-run=${SHELL},${Deno.execPath()} ` +
        `(the real Deno binary; --allow-run=deno is not enough)`,
    );
  }
}

let envBlocks: boolean | null | undefined;
const BLOCK_OPTION = new TextEncoder().encode("block-signal");

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  for (let i = haystack.indexOf(needle[0]); i >= 0; i = haystack.indexOf(needle[0], i + 1)) {
    if (needle.every((byte, j) => haystack[i + j] === byte)) return true;
  }
  return false;
}

/**
 * Whether /usr/bin/env can block a signal for the command it runs (GNU
 * coreutils 8.31 and later), read from the binary itself so that no process
 * is started to ask; null when it cannot be read.
 */
function envCanBlock(): boolean | null {
  if (envBlocks !== undefined) return envBlocks;
  try {
    envBlocks = contains(Deno.readFileSync("/usr/bin/env"), BLOCK_OPTION);
  } catch {
    envBlocks = null;
  }
  return envBlocks;
}

function usr1Mode(options: ResolvedDaemonOptions): "block" | "probe" | "deliver" {
  if (options.sigusr1 === "inspector") return "deliver";
  const blocks = envCanBlock();
  return blocks === null ? "probe" : blocks ? "block" : "deliver";
}

// Signals 1 to 31 but SIGPIPE (13): what the keeper traps and its program
// must get at their defaults. Deno's children start with an empty signal
// mask and SIGPIPE at its default (Rust's std resets both); glibc's own
// real-time signals (32, 33) show as ignored in every child of Deno (not of
// a shell, Python or Node) and env --default-signal cannot reset them, so
// they do not count.
const TRAPPED = ((1n << 31n) - 1n) & ~(1n << 12n);

/**
 * Whether the keeper starts with every signal it traps at its default:
 * true unless this process ignores one of them (a launcher run under nohup,
 * or in the background of a shell script), read from /proc/self/status.
 * Then the keeper need not start again through `env --default-signal`
 * (about 5 ms: a probe and an exec); where this cannot be read, it looks
 * for itself.
 */
function keeperStartsClean(): boolean {
  const path = "/proc/self/status";
  if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return false;
  try {
    const ignored = /^SigIgn:\s+([0-9a-f]+)$/m.exec(Deno.readTextFileSync(path))?.[1];
    return ignored !== undefined && (BigInt(`0x${ignored}`) & TRAPPED) === 0n;
  } catch {
    return false;
  }
}

/** What the keeper needs beyond the options. */
export interface KeeperPlan {
  nonce: string;
  /** With a restart policy: the `dev:ino` of the pidfile the keeper locks. */
  keeperLock: string | null;
  /** The `dev:ino` of the raw stderr and stdout files this process holds open. */
  stderrId: string | null;
  stdoutId: string | null;
}

/** `/bin/sh` and its arguments: the keeper (lib/launcher/_keeper.ts) running `command`. */
export function keeperCommand(
  options: ResolvedDaemonOptions,
  plan: KeeperPlan,
  command: readonly string[],
): { args: string[]; env: Record<string, string> } {
  const out = options.stdout === NULL_DEVICE
    ? "null"
    : options.stdout === options.stderr
    ? "same"
    : "pipe";
  const keeper = plan.keeperLock !== null;
  const logFormat = options.logFormat;
  return {
    args: [
      "-c",
      KEEPER_BOOT,
      "daemonize",
      options.umask.toString(8).padStart(3, "0"),
      options.stdin,
      out,
      plan.nonce,
      options.restart,
      String(Math.round(options.restartDelay)), // sh counts in whole numbers
      String(options.maxRestarts),
      keeper ? options.pidFile! : "",
      plan.keeperLock ?? "",
      logFormat,
      options.name,
      usr1Mode(options),
      plan.stderrId ?? "",
      plan.stdoutId ?? "",
      String(Math.round(options.stopTimeout)),
      ...command,
    ],
    env: { [KEEPER_ENV]: KEEPER, ...(keeperStartsClean() ? { DAEMONIZE_CLEAN: "1" } : {}) },
  };
}
