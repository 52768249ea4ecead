// Test helpers: a sandbox (temporary directory) per test that runs the
// fixture scripts as real processes and, on dispose, kills by pid whatever
// daemon it started, even when the test failed.

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` to its end and returns its exit code and decoded output. */
export async function collect(command: Deno.Command): Promise<Output> {
  const out = await command.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/**
 * Polls `check` until it returns a truthy value or `ms` pass; returns the value or throws.
 * The deadline fires even while an asynchronous `check` is still pending (a
 * read from a silent pipe, say); a synchronous check cannot be interrupted,
 * so keep those short.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 5000,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + ms;
  const expired = () => new Error(`timed out after ${ms} ms waiting for ${what}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), ms);
  });
  late.catch(() => {}); // it only matters while raced
  try {
    let pause = 2;
    for (;;) {
      const value = await Promise.race([check(), late]);
      if (value) return value as NonNullable<T>;
      const left = deadline - performance.now();
      if (left <= 0) throw expired();
      await new Promise((r) => setTimeout(r, Math.min(pause, left)));
      pause = Math.min(pause * 2, 50);
    }
  } finally {
    clearTimeout(timer);
  }
}

const ROOT = new URL("../", import.meta.url);

/**
 * Makes `dir` a project that imports this package: a deno.json mapping
 * "@daemonize/daemon" to this repository's mod.ts (and LogTape as the
 * repository pins it), and the repository's lock. Scripts run from `dir`
 * then resolve as in a user's project, without writing into the repository.
 */
export function usePackage(dir: string): void {
  const config = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const imports = { ...config.imports, "@daemonize/daemon": new URL("mod.ts", ROOT).href };
  Deno.writeTextFileSync(`${dir}/deno.json`, JSON.stringify({ imports }, null, 2) + "\n");
  Deno.copyFileSync(new URL("deno.lock", ROOT), `${dir}/deno.lock`);
}

/** Copies the directory `from` into `to`, except log and pid files. */
export function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    const source = `${from}/${entry.name}`;
    if (entry.isDirectory) copyTree(source, `${to}/${entry.name}`);
    else if (entry.isFile && !/\.(log|pid)$/.test(entry.name)) {
      Deno.copyFileSync(source, `${to}/${entry.name}`);
    }
  }
}

/** The process state letter from /proc (Z for a zombie), or null when there is no such process. */
export function procState(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  } catch {
    return null;
  }
}

/** Alive: exists and is not a zombie (PID 1 here does not reap orphans). */
export function isAlive(pid: number): boolean {
  const state = procState(pid);
  return state !== null && state !== "Z" && state !== "X";
}

/** The environment of process `pid`, NUL-separated ("" when unreadable). */
export function environOf(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/environ`);
  } catch {
    return "";
  }
}

function isDeno(pid: number): boolean {
  try {
    return Deno.readLinkSync(`/proc/${pid}/exe`) === Deno.execPath();
  } catch {
    return false;
  }
}

/**
 * Pids of live Deno processes whose environment names `marker`: our
 * daemons (and launchers). With `all`, the daemons' keeper shells too.
 */
export function processesWith(marker: string, all = false): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid) || pid === Deno.pid) continue;
    if (
      isAlive(pid) && environOf(pid).split("\0").includes(marker) && (all || isDeno(pid))
    ) {
      pids.push(pid);
    }
  }
  return pids;
}

/** The fields of /proc/PID/stat after the command name (state first). */
export function statOf(pid: number): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Whether /proc/locks shows a granted flock of `mode` by `pid` on `path`'s inode. */
export function flockHeld(pid: number, path: string, mode: "READ" | "WRITE"): boolean {
  const ino = Deno.statSync(path).ino;
  return Deno.readTextFileSync("/proc/locks").split("\n").some((line) =>
    !line.includes("->") && line.includes(` ${mode} `) && line.includes(` ${pid} `) &&
    line.includes(`:${ino} `)
  );
}

export interface RunOptions {
  behavior?: string;
  options?: Record<string, unknown>;
  env?: Record<string, string>;
  denoFlags?: string[];
  script?: string;
  cwd?: string;
}

/** A temporary directory and the fixture daemons started in it. */
export class Sandbox implements AsyncDisposable {
  readonly dir: string;
  /** An environment entry only this sandbox's processes carry. */
  readonly marker: string;
  readonly extraPids: number[] = [];
  readonly #children: Deno.ChildProcess[] = [];

  constructor() {
    this.dir = Deno.makeTempDirSync({ prefix: "daemonize-test-" });
    this.marker = `FIXTURE_DIR=${this.dir}`;
  }

  /** The environment entry that marks processes as this sandbox's, for commands built by hand. */
  envMarker(): Record<string, string> {
    return { FIXTURE_DIR: this.dir };
  }

  path(name: string): string {
    return `${this.dir}/${name}`;
  }

  get pidFile(): string {
    return this.path("app.pid");
  }

  get logFile(): string {
    return this.path("app.log");
  }

  /** Spawns `command` (no stdio), to be killed by pid and reaped on dispose. */
  spawn(command: string, args: string[]): Deno.ChildProcess {
    const child = new Deno.Command(command, {
      args,
      cwd: this.dir,
      env: this.envMarker(),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.#children.push(child);
    return child;
  }

  /** Runs `deno run <flags> <fixture> ...args` and collects its output. */
  run(args: string[], o: RunOptions = {}): Promise<Output> {
    return collect(this.command(args, o));
  }

  /** The environment the fixture runs with: this sandbox's marker, `o`'s behavior, options and env. */
  fixtureEnv(o: RunOptions = {}): Record<string, string> {
    return {
      FIXTURE_DIR: this.dir,
      FIXTURE_BEHAVIOR: o.behavior ?? "idle",
      FIXTURE_OPTIONS: JSON.stringify(o.options ?? {}),
      NO_COLOR: "1",
      ...o.env,
    };
  }

  command(args: string[], o: RunOptions = {}): Deno.Command {
    return new Deno.Command(Deno.execPath(), {
      args: ["run", ...(o.denoFlags ?? ["-A"]), `${FIXTURES}${o.script ?? "app.ts"}`, ...args],
      cwd: o.cwd ?? this.dir,
      env: this.fixtureEnv(o),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  }

  /**
   * Runs the fixture in the foreground (`run`), registered for cleanup, and
   * resolves once it has logged that it started.
   */
  async foreground(o: RunOptions = {}): Promise<Deno.ChildProcess> {
    const child = this.command(["run"], o).spawn();
    this.extraPids.push(child.pid);
    await waitFor("the foreground daemon", () => this.readLog().includes("started fx"));
    return child;
  }

  /** Starts the fixture; asserts it started and returns the daemon's pid. */
  async start(o: RunOptions = {}): Promise<number> {
    const out = await this.run(["start"], o);
    const match = /started \S+ \(pid (\d+)\)/.exec(out.stdout);
    if (out.code !== 0 || match === null) {
      throw new Error(`start failed (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
    }
    return Number(match[1]);
  }

  readLog(name = "app.log"): string {
    try {
      return Deno.readTextFileSync(this.path(name));
    } catch {
      return "";
    }
  }

  exists(name: string): boolean {
    try {
      Deno.lstatSync(this.path(name));
      return true;
    } catch {
      return false;
    }
  }

  /** Kills, by pid, every live process carrying this sandbox's marker, then removes the directory. */
  async [Symbol.asyncDispose](): Promise<void> {
    const pids = [...processesWith(this.marker, true), ...this.extraPids.filter(isAlive)];
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    }
    await waitFor("sandbox processes to die", () => pids.every((pid) => !isAlive(pid)), 5000);
    Deno.removeSync(this.dir, { recursive: true });
  }
}
