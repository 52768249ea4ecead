/**
 * The command line of the user's own script: `start`, `stop`, `restart`,
 * `status`, `reload`, `logs`, `run`. It parses, dispatches to the launcher
 * or the daemon side, and is the only place that formats results for a
 * person.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import { moduleStem, portableOptions } from "./options.ts";
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
  entry: DaemonEntry;
  options: ResolvedDaemonOptions;
  /** The options as given, to hand to the re-executed daemon. */
  given: DaemonOptions;
}

/** The help text. */
export function usage(name: string): string {
  const script = moduleStem(Deno.mainModule);
  return `Usage: deno run -A ${script}.ts <command> [options]

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
  --json           start, stop, restart, status, reload: one JSON object
  -n, --lines N    logs: how many lines (default 10)
  -f, --follow     logs: keep printing new lines until Ctrl-C
  -h, --help       show this help
`;
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
  return r.running
    ? red(`${r.name} (pid ${r.pid}) did not reload: ${r.error}`)
    : yellow("not running");
}

function statusLine(s: DaemonStatus): string {
  if (s.running) {
    const up = s.startedAt === null ? "" : `, up ${duration(Date.now() - s.startedAt.getTime())}`;
    return green(`${s.name} is running`) +
      ` (pid ${s.pid ?? "unknown"}${up}${s.logFile ? `, log ${s.logFile}` : ""})`;
  }
  if (s.stale) {
    return yellow(
      `${s.name} is not running, but its pidfile ${s.pidFile} remains (pid ${s.pid ?? "none"})`,
    );
  }
  return yellow(`${s.name} is not running`);
}

function statusCode(s: DaemonStatus): number {
  return s.running ? STATUS_EXIT.running : s.stale ? STATUS_EXIT.dead : STATUS_EXIT.stopped;
}

// One write: console.log's first call costs a few tenths of a millisecond,
// which status, run from scripts in loops, pays every time.
function say(text: string): void {
  Deno.stdout.writeSync(new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`));
}

/** Prints `err` as one line on stderr; returns the exit code for it. */
export function reportError(name: string, err: unknown, code = 1): number {
  const message = err instanceof DaemonError
    ? err.message
    : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  console.error(red(`${name}: ${message}`));
  return code;
}

interface Flags {
  json: boolean;
  help: boolean;
  lines: number;
  follow: boolean;
}

// Our flags come after the command; anything else there is the daemon's
// (ctx.args), so unknown words are not errors.
function flags(command: string | undefined, rest: readonly string[]): Flags | string {
  const f: Flags = { json: false, help: false, lines: 10, follow: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === "-h" || arg === "--help") f.help = true;
    else if (arg === "--json") f.json = true;
    else if (command === "logs" && (arg === "-f" || arg === "--follow")) f.follow = true;
    else if (command === "logs" && (arg === "-n" || arg === "--lines")) {
      const n = Number(rest[++i]);
      if (!Number.isInteger(n) || n < 0) return `${arg} takes a whole number of lines`;
      f.lines = n;
    }
  }
  return f;
}

/**
 * Runs the command in `options.args` and returns the process exit code.
 * `run` does not return: the daemon side exits the process.
 */
export async function runCommandLine(cli: CommandLine): Promise<number> {
  const { options } = cli;
  const [command, ...rest] = options.args;
  const usageError = (why: string) => {
    console.error(red(`${options.name}: ${why}`));
    console.error(usage(options.name));
    return USAGE_EXIT;
  };
  if (command === "-h" || command === "--help") {
    say(usage(options.name));
    return 0;
  }
  if (!COMMANDS.includes(command as Command)) {
    return usageError(command === undefined ? "no command given" : `unknown command "${command}"`);
  }
  // Everything after `run` belongs to the program itself.
  const f = flags(command, command === "run" ? [] : rest);
  if (typeof f === "string") return usageError(f);
  if (f.help) {
    say(usage(options.name));
    return 0;
  }
  const print = <T>(result: T, line: (r: T) => string) =>
    say(f.json ? JSON.stringify(result) : line(result));
  const plan = {
    options,
    module: Deno.mainModule,
    args: rest,
    portable: portableOptions(cli.given, Deno.cwd()),
    launchCwd: Deno.cwd(),
  };

  try {
    switch (command as Command) {
      case "start": {
        const { startDaemon } = await load.start();
        print(await startDaemon(plan), startLine);
        return 0;
      }
      case "stop": {
        const { stopDaemon } = await load.stop();
        print(await stopDaemon(options), stopLine);
        return 0;
      }
      case "restart": {
        const [{ stopDaemon }, { startDaemon }] = await Promise.all([load.stop(), load.start()]);
        const stopped = await stopDaemon(options);
        if (!f.json) say(stopLine(stopped));
        print(await startDaemon(plan), startLine);
        return 0;
      }
      case "status": {
        let status: DaemonStatus;
        try {
          const { daemonStatus } = await load.status();
          status = await daemonStatus(options);
        } catch (err) {
          const code = err instanceof DaemonError && err.code === "BAD_OPTION"
            ? 1
            : STATUS_EXIT.unknown;
          return reportError(options.name, err, code);
        }
        print(status, statusLine);
        return statusCode(status);
      }
      case "reload": {
        const { reloadDaemon } = await load.reload();
        const result = await reloadDaemon(options);
        print(result, reloadLine);
        return result.running && !result.reloaded ? 1 : 0;
      }
      case "logs": {
        const stop = new AbortController();
        const onInt = () => stop.abort();
        if (f.follow) Deno.addSignalListener("SIGINT", onInt);
        try {
          const { showLogs } = await load.logs();
          await showLogs(options, {
            lines: f.lines,
            follow: f.follow,
            write: (bytes) => Deno.stdout.writeSync(bytes),
            signal: stop.signal,
          });
        } finally {
          if (f.follow) Deno.removeSignalListener("SIGINT", onInt);
        }
        return 0;
      }
      case "run": {
        const { runDaemon } = await load.run();
        return await runDaemon(cli.entry, options, "foreground", rest);
      }
    }
  } catch (err) {
    return reportError(options.name, err);
  }
}
