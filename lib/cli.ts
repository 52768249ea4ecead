/**
 * The command line of the user's own script: `start`, `stop`, `restart`,
 * `status`, `run`. It parses, dispatches to the launcher or the daemon side,
 * and is the only place that formats results for a person.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import { moduleStem, portableOptions } from "./options.ts";
import type { DaemonEntry } from "./daemon/run.ts";
import { startDaemon } from "./launcher/start.ts";
import { daemonStatus } from "./launcher/status.ts";
import { stopDaemon } from "./launcher/stop.ts";
import type {
  DaemonOptions,
  DaemonStatus,
  ResolvedDaemonOptions,
  StartResult,
  StopResult,
} from "./types.ts";

/** LSB `status` exit codes. */
export const STATUS_EXIT = {
  running: 0,
  dead: 1,
  stopped: 3,
  unknown: 4,
} as const;
const USAGE_EXIT = 2;
const COMMANDS = ["start", "stop", "restart", "status", "run"] as const;
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
  return `Usage: deno run -A ${script}.ts <command> [--json]

Manage the ${name} daemon.

Commands:
  start     start it in the background; returns once it is ready
  stop      stop it (SIGTERM, then SIGKILL after stopTimeout)
  restart   stop, then start
  status    is it running? exit 0 running, 1 dead but pidfile left,
            3 not running, 4 unknown
  run       run it in the foreground (terminal, systemd, containers)

Options:
  --json      print the result as one JSON object
  -h, --help  show this help
`;
}

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

function out(text: string): void {
  console.log(text);
}

function startLine(r: StartResult): string {
  return r.alreadyRunning ? `already running (pid ${r.pid})` : `started ${r.name} (pid ${r.pid})`;
}

function stopLine(r: StopResult): string {
  if (r.wasRunning) {
    return `stopped ${r.name} (pid ${r.stoppedPid}${r.killed ? ", after SIGKILL" : ""})`;
  }
  return r.stale ? `not running (removed stale pidfile ${r.pidFile})` : "not running";
}

function statusLine(s: DaemonStatus): string {
  if (s.running) {
    const up = s.startedAt === null ? "" : `, up ${duration(Date.now() - s.startedAt.getTime())}`;
    return `${s.name} is running (pid ${s.pid ?? "unknown"}${up}${
      s.logFile ? `, log ${s.logFile}` : ""
    })`;
  }
  if (s.stale) {
    return `${s.name} is not running, but its pidfile ${s.pidFile} remains (pid ${
      s.pid ?? "none"
    })`;
  }
  return `${s.name} is not running`;
}

function statusCode(s: DaemonStatus): number {
  return s.running ? STATUS_EXIT.running : s.stale ? STATUS_EXIT.dead : STATUS_EXIT.stopped;
}

/** Prints `err` as one line on stderr; returns the exit code for it. */
export function reportError(name: string, err: unknown, code = 1): number {
  const message = err instanceof DaemonError
    ? err.message
    : `unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  console.error(`${name}: ${message}`);
  return code;
}

/**
 * Runs the command in `options.args` and returns the process exit code.
 * `run` does not return: the daemon side exits the process.
 */
export async function runCommandLine(cli: CommandLine): Promise<number> {
  const { options } = cli;
  const [command, ...rest] = options.args;
  if (
    command === "-h" || command === "--help" ||
    (command !== "run" && rest.some((a) => a === "-h" || a === "--help"))
  ) {
    out(usage(options.name));
    return 0;
  }
  if (!COMMANDS.includes(command as Command)) {
    console.error(
      command === undefined
        ? `${options.name}: no command given`
        : `${options.name}: unknown command "${command}"`,
    );
    console.error(usage(options.name));
    return USAGE_EXIT;
  }
  const json = command !== "run" && rest.includes("--json");
  const print = <T>(result: T, line: (r: T) => string) =>
    out(json ? JSON.stringify(result) : line(result));
  const plan = {
    options,
    module: Deno.mainModule,
    args: options.args,
    portable: portableOptions(cli.given, Deno.cwd()),
    launchCwd: Deno.cwd(),
  };

  try {
    switch (command as Command) {
      case "start":
        print(await startDaemon(plan), startLine);
        return 0;
      case "stop":
        print(await stopDaemon(options), stopLine);
        return 0;
      case "restart": {
        const stopped = await stopDaemon(options);
        if (!json) out(stopLine(stopped));
        print(await startDaemon(plan), startLine);
        return 0;
      }
      case "status": {
        let status: DaemonStatus;
        try {
          status = await daemonStatus(options);
        } catch (err) {
          return reportError(
            options.name,
            err,
            err instanceof DaemonError && err.code === "BAD_OPTION" ? 1 : STATUS_EXIT.unknown,
          );
        }
        print(status, statusLine);
        return statusCode(status);
      }
      case "run": {
        const { runDaemon } = await import("./daemon/run.ts");
        return await runDaemon(cli.entry, options, "foreground");
      }
    }
  } catch (err) {
    return reportError(options.name, err);
  }
}
