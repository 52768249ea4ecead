/**
 * The command line of the user's own script: `start`, `stop`, `restart`,
 * `status`, `reload`, `logs`, `run`. It parses, dispatches to the launcher
 * or the daemon side, and is the only place that formats results for a
 * person.
 *
 * @module
 */

import { DaemonError } from "./errors.ts";
import { portableOptions } from "./_portable.ts";
import type { DaemonEntry } from "./daemon/run.ts";
import type { DaemonOptions, DaemonStatus, ResolvedDaemonOptions } from "./types.ts";
import { type Invocation, parseCommandLine, usage } from "./_argv.ts";
import {
  leftBehind,
  red,
  reloadLine,
  reportError,
  say,
  sayResult,
  startLine,
  STATUS_EXIT,
  statusLine,
  stopLine,
} from "./_say.ts";

export { COMMANDS } from "./_argv.ts";
export { reportError } from "./_say.ts";

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

const USAGE_EXIT = 2;

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
  /** The directory the command runs in, as the user reached it (lib/_cwd.ts). */
  launchCwd: string;
}

function statusCode(s: DaemonStatus): number {
  return s.running ? STATUS_EXIT.running : s.stale ? STATUS_EXIT.dead : STATUS_EXIT.stopped;
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
  // What start hands the daemon: built only by the commands that start one.
  const plan = () => ({
    options,
    module: Deno.mainModule,
    args: parsed.args,
    portable: portableOptions(cli.given, cli.launchCwd),
    launchCwd: cli.launchCwd,
  });

  try {
    switch (command) {
      case "start": {
        const { startDaemon } = await load.start();
        print(await startDaemon(plan()), startLine);
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
        print(await startDaemon(plan()), startLine);
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
        const { runDaemon } = await load.run();
        return await runDaemon(cli.entry, options, "foreground");
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
