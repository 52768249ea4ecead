/**
 * The command line of the user's own script: `start`, `stop`, `restart`,
 * `status`, `reload`, `logs`, `run`. It parses, dispatches to the launcher
 * or the daemon side, and is the only place that formats results for a
 * person.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import { portableOptions } from "./options.ts";
import { launchDirectory } from "./_cwd.ts";
import type { DaemonEntry } from "./daemon/run.ts";
import type {
  DaemonOptions,
  DaemonStatus,
  ReloadResult,
  ResolvedDaemonOptions,
  StartResult,
  StopResult,
} from "./types.ts";

// Each command loads only the modules it needs: every module costs boot time
// on paths people time (status in scripts, start in deploys).
const load = {
  start: () => import("./launcher/start.ts"),
  stop: () => import("./launcher/stop.ts"),
  status: () => import("./launcher/status.ts"),
  reload: () => import("./launcher/reload.ts"),
  logs: () => import("./launcher/logs.ts"),
  run: () => import("./daemon/run.ts"),
};

/** LSB `status` exit codes. */
export const STATUS_EXIT = { running: 0, dead: 1, stopped: 3, unknown: 4 } as const;
const USAGE_EXIT = 2;
/** The commands, in the order the help lists them. */
export const COMMANDS = ["start", "stop", "restart", "status", "reload", "logs", "run"] as const;
type Command = (typeof COMMANDS)[number];

/** Everything the command line acts on. */
export interface CommandLine {
  /** The daemon's code, loaded only by `run` (the module form imports it then). */
  entry: () => Promise<DaemonEntry>;
  /** The options, validated; `args` is set here, from the words after `--`. */
  options: ResolvedDaemonOptions;
  /** The options as given, to hand to the re-executed daemon. */
  given: DaemonOptions;
  /** The command line: `options.args ?? Deno.args`. */
  line: readonly string[];
}

// The flags each command takes (long forms); anything else before `--` is
// a mistake, so a typo never starts a daemon or passes silently.
const FLAGS: Readonly<Record<Command, readonly string[]>> = {
  start: ["--json", "--help"],
  stop: ["--json", "--help"],
  restart: ["--json", "--help"],
  status: ["--json", "--help"],
  reload: ["--json", "--help"],
  logs: ["--lines", "--follow", "--json", "--help"],
  run: ["--help"],
};
const SHORT: Readonly<Record<string, string>> = {
  "-h": "--help",
  "-n": "--lines",
  "-f": "--follow",
};
/** The commands whose program gets arguments (after `--`). */
const TAKE_ARGS: readonly Command[] = ["start", "restart", "run"];

/** What a command line asks for. */
export interface Invocation {
  /** Null for a bare `--help`. */
  command: Command | null;
  help: boolean;
  json: boolean;
  /** `logs`: how many lines. */
  lines: number;
  /** `logs`: keep following. */
  follow: boolean;
  /** The program's own arguments: the words after `--` (`ctx.args`). */
  args: string[];
}

/** A command line that asks for nothing we do. */
export interface Mistake {
  mistake: string;
  command: Command | null;
  json: boolean;
  /** Whether the whole usage helps (no command, or an unknown one). */
  usage: boolean;
}

/** The script as people type it: `app.ts`. */
function scriptName(): string {
  const module = Deno.mainModule;
  return module.slice(module.lastIndexOf("/") + 1) || module;
}

/** The help text. */
export function usage(name: string): string {
  const script = scriptName();
  return `Usage: deno run -A ${script} <command> [options] [-- arguments for ${name}]

Manage the ${name} daemon.

Commands:
  start     start it in the background; returns once it is ready
  stop      stop it (SIGTERM, then SIGKILL after stopTimeout)
  restart   stop, then start
  status    is it running? exit 0 running, 1 dead but pidfile left,
            3 not running, 4 unknown
  reload    send it SIGHUP: reopen the log file and reload
  logs      print the last lines of its log file
  run       run it in the foreground (terminal, systemd, containers)

Options:
  --json           all but run: print one JSON object, on failure too
                   ({"name": ..., "error": {"code": ..., "message": ...}})
  -n, --lines N    logs: how many lines (default 10)
  -f, --follow     logs: keep printing new lines until Ctrl-C
  -h, --help       show this help

Arguments for ${name} itself go after "--" (start, restart, run); they are
its ctx.args. Any other word on the command line is an error:
  deno run -A ${script} start -- --port 8080
`;
}

// Optimal string alignment distance: a swap of two letters counts once.
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(
        d[i - 1][j] + 1,
        d[i][j - 1] + 1,
        d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

function closest(word: string, candidates: readonly string[]): string | null {
  if (word.length < 4) return null;
  let best: string | null = null;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** `--json` asked for, before any `--`: cheap enough for the failure paths. */
function asksJson(line: readonly string[]): boolean {
  const end = line.indexOf("--");
  return (end < 0 ? line : line.slice(0, end)).includes("--json");
}

/**
 * Reads a command line: the command, its flags, and after `--` the
 * program's own arguments.
 */
export function parseCommandLine(line: readonly string[]): Invocation | Mistake {
  const json = asksJson(line);
  const [first, ...rest] = line;
  const none: Invocation = {
    command: null,
    help: true,
    json,
    lines: 10,
    follow: false,
    args: [],
  };
  if (first === "-h" || first === "--help") return none;
  const wrong = (mistake: string, command: Command | null, whole = false): Mistake => ({
    mistake,
    command,
    json,
    usage: whole,
  });
  if (first === undefined || first === "--") return wrong("no command given", null, true);
  if (!COMMANDS.includes(first as Command)) {
    const hint = closest(first, COMMANDS);
    return wrong(
      first.startsWith("-")
        ? `the command comes first, before "${first}"`
        : `unknown command "${first}"${hint === null ? "" : `; did you mean "${hint}"?`}`,
      null,
      true,
    );
  }
  const command = first as Command;
  const own = FLAGS[command];
  const takesArgs = TAKE_ARGS.includes(command);
  const after = (word: string) =>
    takesArgs
      ? `; arguments for the program go after "--": ${command} -- ${word}`
      : `; ${command} takes no arguments`;
  const inv: Invocation = { ...none, command, help: false };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i];
    if (word === "--") {
      inv.args = rest.slice(i + 1);
      if (!takesArgs && inv.args.length > 0) {
        return wrong(`${command} takes no arguments for the program (after "--")`, command);
      }
      break;
    }
    let flag = word;
    let value: string | undefined;
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      if (eq > 0) [flag, value] = [word.slice(0, eq), word.slice(eq + 1)];
    } else if (word.length === 2) {
      flag = SHORT[word] ?? word;
    } else if (SHORT[word.slice(0, 2)] === "--lines") {
      [flag, value] = ["--lines", word.slice(2)]; // -n5
    }
    if (!own.includes(flag)) {
      if (!word.startsWith("-") || word === "-") {
        return wrong(`unexpected argument "${word}"${after(word)}`, command);
      }
      const elsewhere = COMMANDS.filter((c) => FLAGS[c].includes(flag));
      if (elsewhere.length > 0) {
        return wrong(`${word} is for ${elsewhere.join(", ")}, not ${command}`, command);
      }
      const hint = closest(flag, own);
      return wrong(
        `unknown option "${word}" for ${command}` +
          (hint === null ? after(word) : `; did you mean "${hint}"?`),
        command,
      );
    }
    if (flag === "--lines") {
      value ??= rest[++i];
      const n = Number(value);
      if (value === undefined || value.trim() === "" || !Number.isInteger(n) || n < 0) {
        return wrong(`${word} takes a whole number of lines`, command);
      }
      inv.lines = n;
      continue;
    }
    if (value !== undefined) return wrong(`${flag} takes no value`, command);
    if (flag === "--help") inv.help = true;
    else if (flag === "--json") inv.json = true;
    else if (flag === "--follow") inv.follow = true;
  }
  if (inv.follow && inv.json) {
    return wrong(
      "--json cannot follow a log (it prints one object); drop --follow or --json",
      command,
    );
  }
  return inv;
}

// Colour only for a person at a terminal, and never under NO_COLOR.
function paint(code: number): (text: string) => string {
  return (text) => Deno.noColor || !Deno.stdout.isTerminal() ? text : `\x1b[${code}m${text}\x1b[0m`;
}
const green = paint(32);
const yellow = paint(33);
const red = (text: string) =>
  Deno.noColor || !Deno.stderr.isTerminal() ? text : `\x1b[31m${text}\x1b[0m`;

function duration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (s >= size || parts.length > 0) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  parts.push(`${s}s`);
  return parts.join(" ");
}

function startLine(r: StartResult): string {
  return r.alreadyRunning
    ? yellow(`already running (pid ${r.pid})`)
    : green(`started ${r.name} (pid ${r.pid})`);
}

function stopLine(r: StopResult): string {
  if (r.wasRunning) {
    return green(`stopped ${r.name} (pid ${r.stoppedPid}${r.killed ? ", after SIGKILL" : ""})`);
  }
  if (!r.stale) return yellow("not running");
  return yellow(
    r.removedStale
      ? `not running (removed stale pidfile ${r.pidFile})`
      : `not running (pidfile ${r.pidFile} left in place: another program holds a lock on it)`,
  );
}

function reloadLine(r: ReloadResult): string {
  if (r.reloaded) return green(`reloaded ${r.name} (pid ${r.pid})`);
  return yellow(r.stale ? `not running (removed stale pidfile ${r.pidFile})` : "not running");
}

// A stop that ended the daemon but could not remove its pidfile.
function leftBehind(name: string, r: StopResult): DaemonError {
  return new DaemonError(
    "BAD_PIDFILE",
    `stopped ${name} (pid ${r.stoppedPid}), but ${r.pidFileError}`,
  );
}

// With a keeper: its restarts and how main last ended.
function keeperText(s: DaemonStatus): string {
  if (s.restarts === undefined) return "";
  const last = s.lastExit
    ? `, last ended ${s.lastExit.at.toISOString()}: ${s.lastExit.reason}`
    : "";
  const restarts = `${s.restarts} restart${s.restarts === 1 ? "" : "s"}`;
  if (s.gaveUp) return `, gave up after ${restarts}${last}`;
  return `, main ${s.mainPid ?? "restarting"}, ${restarts}${last}`;
}

function statusLine(s: DaemonStatus): string {
  if (s.running) {
    const up = s.startedAt === null ? "" : `, up ${duration(Date.now() - s.startedAt.getTime())}`;
    return green(`${s.name} is ${s.stopping ? "stopping" : "running"}`) +
      ` (pid ${s.pid ?? "unknown"}${up}${keeperText(s)}${s.logFile ? `, log ${s.logFile}` : ""})`;
  }
  if (s.stale) {
    return yellow(
      `${s.name} is not running, but its pidfile ${s.pidFile} remains (pid ${s.pid ?? "none"}${
        keeperText(s)
      })`,
    );
  }
  return yellow(`${s.name} is not running`);
}

function statusCode(s: DaemonStatus): number {
  return s.running ? STATUS_EXIT.running : s.stale ? STATUS_EXIT.dead : STATUS_EXIT.stopped;
}

// One write: console.log's first call costs a few tenths of a millisecond,
// which status, run from scripts in loops, pays every time. A reader that
// has gone (`status | head -c0`, a closed pipe) is not an error: nobody is
// left to tell. Other failures (a full device) throw.
function say(text: string): void {
  const bytes = new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`);
  try {
    for (let n = 0; n < bytes.length;) n += Deno.stdout.writeSync(bytes.subarray(n));
  } catch (err) {
    if (!(err instanceof Deno.errors.BrokenPipe)) throw err;
  }
}

// A command's result, which stands whether or not it can be printed: when
// stdout cannot take it, stderr says so, and the exit code stays the
// command's (a daemon that started is up, printed or not).
function sayResult(name: string, text: string): void {
  try {
    say(text);
  } catch (err) {
    console.error(
      `${name}: this could not be printed on stdout (${
        err instanceof Error ? err.message : String(err)
      }): ${text}`,
    );
  }
}

/** What a JSON consumer is told about a failure. */
function errorObject(name: string, err: unknown): object {
  return err instanceof DaemonError
    ? { name, error: { code: err.code, message: err.message } }
    : { name, error: { code: "UNEXPECTED", message: unexpected(err) } };
}

function unexpected(err: unknown): string {
  return `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Prints `err` for the command line `line` (one line on stderr, or with
 * `--json` one object on stdout) and returns the exit code: 4 for `status`
 * (LSB's "unknown"), else 1, or `code` when given.
 */
export function reportError(
  name: string,
  err: unknown,
  line: readonly string[] = [],
  code?: number,
): number {
  const text = `${name}: ${err instanceof DaemonError ? err.message : unexpected(err)}`;
  let printed = false;
  if (asksJson(line)) {
    try {
      say(JSON.stringify(errorObject(name, err)));
      printed = true;
    } catch { /* stdout cannot take it: stderr says it */ }
  }
  if (!printed) console.error(red(text));
  return code ?? (line[0] === "status" ? STATUS_EXIT.unknown : 1);
}

/**
 * Runs the command on the command line and returns the process exit code.
 * `run` does not return: the daemon side exits the process.
 */
export async function runCommandLine(cli: CommandLine): Promise<number> {
  const { name } = cli.options;
  const parsed = parseCommandLine(cli.line);
  if ("mistake" in parsed) {
    const code = parsed.command === "status" ? STATUS_EXIT.unknown : USAGE_EXIT;
    reportError(name, new DaemonError("BAD_OPTION", parsed.mistake), cli.line, code);
    if (parsed.usage && !parsed.json) console.error(usage(name));
    return code;
  }
  const { command, json } = parsed;
  if (command === null || parsed.help) {
    sayResult(name, usage(name));
    return 0;
  }
  const options: ResolvedDaemonOptions = { ...cli.options, args: parsed.args };
  const print = <T>(result: T, line: (r: T) => string) =>
    sayResult(name, json ? JSON.stringify(result) : line(result));
  const launchCwd = launchDirectory();
  const plan = {
    options,
    module: Deno.mainModule,
    args: parsed.args,
    portable: portableOptions(cli.given, launchCwd),
    launchCwd,
  };

  try {
    switch (command) {
      case "start": {
        const { startDaemon } = await load.start();
        print(await startDaemon(plan), startLine);
        return 0;
      }
      case "stop": {
        const { stopDaemon } = await load.stop();
        const stopped = await stopDaemon(options);
        if (stopped.pidFileError !== null) throw leftBehind(name, stopped);
        print(stopped, stopLine);
        return 0;
      }
      case "restart": {
        const [{ stopDaemon }, { startDaemon }] = await Promise.all([load.stop(), load.start()]);
        const stopped = await stopDaemon(options);
        if (!json) sayResult(name, stopLine(stopped));
        if (stopped.pidFileError !== null) {
          console.error(red(`${name}: ${leftBehind(name, stopped).message}`));
        }
        print(await startDaemon(plan), startLine);
        return 0;
      }
      case "status": {
        const { daemonStatus } = await load.status();
        const status = await daemonStatus(options);
        print(status, statusLine);
        return statusCode(status);
      }
      case "reload": {
        const { reloadDaemon } = await load.reload();
        const reloaded = await reloadDaemon(options);
        if (reloaded.running && !reloaded.reloaded) {
          throw new DaemonError(
            "RELOAD_FAILED",
            `${name} (pid ${reloaded.pid}) did not reload: ${reloaded.error}`,
          );
        }
        print(reloaded, reloadLine);
        return 0;
      }
      case "logs": {
        await logs(options, parsed);
        return 0;
      }
      case "run": {
        const [{ runDaemon }, entry] = await Promise.all([load.run(), cli.entry()]);
        return await runDaemon(entry, options, "foreground");
      }
    }
  } catch (err) {
    return reportError(name, err, cli.line);
  }
}

async function logs(options: ResolvedDaemonOptions, parsed: Invocation): Promise<void> {
  const stop = new AbortController();
  const onInt = () => stop.abort();
  const decoder = new TextDecoder();
  let text = "";
  if (parsed.follow) Deno.addSignalListener("SIGINT", onInt);
  try {
    const { showLogs } = await load.logs();
    // A reader that has gone (`logs | head -1`) ends the command quietly:
    // the write throws BrokenPipe out of showLogs, caught below.
    await showLogs(options, {
      lines: parsed.lines,
      follow: parsed.follow,
      write: parsed.json
        ? (bytes) => void (text += decoder.decode(bytes, { stream: true }))
        : (bytes) => {
          for (let n = 0; n < bytes.length;) n += Deno.stdout.writeSync(bytes.subarray(n));
        },
      signal: stop.signal,
    });
  } catch (err) {
    if (err instanceof Deno.errors.BrokenPipe) return;
    throw err;
  } finally {
    if (parsed.follow) Deno.removeSignalListener("SIGINT", onInt);
  }
  if (parsed.json) {
    const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
    say(JSON.stringify({ name: options.name, logFile: options.logFile, lines }));
  }
}
