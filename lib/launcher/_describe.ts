// Asks a daemon script for its own options: runs it once with DESCRIBE_ENV
// set, and reads back the one line `daemonize` then prints instead of
// running a command. A Daemon controller does this once, so that, given
// only the module and its pidfile, it manages the daemon the script defines.

import { DaemonError, type DaemonErrorCode } from "../errors.ts";
import { DESCRIBE_ENV, type ScriptDescription } from "../_launch.ts";
import { within } from "../_time.ts";
import type { DaemonOptions } from "../types.ts";
import { missingRunGrants } from "./_permissions.ts";
import { denoCommand } from "./_command.ts";

const TAIL_LINES = 20;
const LAST_WORDS_MS = 100;

/** What to run, and how. */
export interface DescribeRequest {
  /** The script: an absolute path or URL. */
  module: string;
  /** Where to run it: the base of its relative paths. */
  cwd: string;
  /** Variables the script runs with, as the daemon will. */
  env: Readonly<Record<string, string>>;
  /** Extra `deno run` flags. */
  denoArgs: readonly string[];
  /** How long it may take, in ms. */
  timeoutMs: number;
}

/** A stream read to the end in the background; cancellable. */
function collect(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += decoder.decode(value, { stream: true });
    }
  })().catch(() => {});
  return {
    /** What was read within `ms` more (a grandchild may hold the pipe open). */
    async text(ms: number): Promise<string> {
      await within(done, ms);
      reader.cancel().catch(() => {});
      return text;
    },
  };
}

// No arguments: should describe mode ever go unnoticed, the script then
// finds no command to run, rather than one it was given.
function command(req: DescribeRequest): string[] {
  return denoCommand({ module: req.module, args: [], denoArgs: req.denoArgs });
}

function tail(stderr: string): string {
  const lines = stderr.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
  return lines.trim() === "" ? "" : `\nlast lines of its standard error:\n${lines}`;
}

/**
 * The script's own options as it gives them to `daemonize` (paths absolute
 * against `req.cwd`, `denoArgs` included).
 *
 * @throws {DaemonError} `failCode` when the script does not describe itself
 * (it fails before `daemonize`, never calls it, or takes longer than
 * `req.timeoutMs`); the script's own error when its options are invalid;
 * `PERMISSION` without the right to run Deno.
 */
export async function describeScript(
  req: DescribeRequest,
  failCode: DaemonErrorCode,
): Promise<DaemonOptions> {
  const exec = Deno.execPath();
  if (missingRunGrants([exec]).length > 0) {
    throw new DaemonError(
      "PERMISSION",
      `a Daemon controller runs ${req.module} once to learn its options, which needs ` +
        `--allow-run=${exec} (the real Deno binary; --allow-run=deno is not enough)`,
    );
  }
  const [program, ...args] = command(req);
  const token = crypto.randomUUID();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, {
      args,
      cwd: req.cwd,
      env: { ...req.env, [DESCRIBE_ENV]: token },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    throw new DaemonError(failCode, `cannot run ${program} to read ${req.module}: ${String(err)}`, {
      cause: err,
    });
  }
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  const ended = await within(child.status, req.timeoutMs);
  if (ended === "timeout") {
    try {
      child.kill("SIGKILL");
    } catch { /* gone meanwhile */ }
    await child.status;
    throw new DaemonError(
      failCode,
      `${req.module} did not reach daemonize() within ${req.timeoutMs} ms when run to read its options; ` +
        `does its top-level code wait for something?${tail(await stderr.text(0))}`,
    );
  }
  const [out, err] = await Promise.all([stdout.text(LAST_WORDS_MS), stderr.text(LAST_WORDS_MS)]);
  const mark = `${token} `;
  const line = out.split("\n").find((l) => l.startsWith(mark));
  if (line === undefined) {
    throw new DaemonError(
      failCode,
      `${req.module} exited (code ${ended.code}) before daemonize() could report its options` +
        (ended.code === 0 ? "; does it call daemonize()?" : "") + tail(err),
    );
  }
  const description = JSON.parse(line.slice(mark.length)) as ScriptDescription;
  if ("error" in description) {
    throw new DaemonError(
      description.error.code as DaemonErrorCode,
      `${req.module}: ${description.error.message}`,
    );
  }
  return description.options;
}
