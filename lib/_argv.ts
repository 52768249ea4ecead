// Reading the command line: a command, the library's own flags (long and
// short), and after `--` the program's own arguments. Anything else is a
// mistake with a suggestion, so a typo never starts a daemon or passes
// silently. Also the help text.

/** The commands, in the order the help lists them. */
export const COMMANDS = ["start", "stop", "restart", "status", "reload", "logs", "run"] as const;
type Command = (typeof COMMANDS)[number];

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
export function asksJson(line: readonly string[]): boolean {
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
