// Messages that name the real cause: each failure is one clean line with a
// DaemonError code (or, with --json, one object), never a raw stack, and a
// command whose work is done never says it failed.

import assert from "node:assert/strict";
import { Daemon, DaemonError } from "../mod.ts";
import { isAlive, type Output, processesWith, procState, Sandbox, waitFor } from "./_helpers.ts";

const MODULE = new URL("./fixtures/app.ts", import.meta.url);
const FIXTURE = MODULE.pathname;

function clean(out: Output): void {
  assert.doesNotMatch(out.stderr, /^\s+at /m, "no stack");
  assert.doesNotMatch(out.stderr + out.stdout, /Uncaught|unexpected error/);
}

function jsonError(out: Output): { code: string; message: string } {
  let parsed;
  try {
    parsed = JSON.parse(out.stdout);
  } catch {
    assert.fail(`not one JSON object on stdout: ${JSON.stringify(out)}`);
  }
  assert.ok(parsed.error, out.stdout);
  return parsed.error;
}

Deno.test("a NUL byte in an env name or value: BAD_OPTION naming env, from the command line and the controller", async () => {
  await using sb = new Sandbox();
  const envs: Record<string, string>[] = [{ A: "x\0y" }, { "A\0B": "x" }];
  for (const env of envs) {
    const out = await sb.run(["start", "--json"], { options: { env } });
    assert.equal(out.code, 1, out.stdout);
    const error = jsonError(out);
    assert.equal(error.code, "BAD_OPTION", error.message);
    assert.match(error.message, /option "env" has a NUL byte/);
    const plain = await sb.run(["start"], { options: { env } });
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /option "env" has a NUL byte/);
    clean(plain);
    assert.throws(
      () => new Daemon({ module: MODULE, pidFile: sb.pidFile, env }),
      (e: unknown) =>
        e instanceof DaemonError && e.code === "BAD_OPTION" && /"env"/.test(e.message),
    );
  }
  assert.deepEqual(processesWith(sb.marker), []);
});

// chattr +i needs root and a file system with attributes (ext4, xfs,
// btrfs; not tmpfs or overlayfs): tried once on a scratch file here.
function chattr(flag: "+i" | "-i", path: string): boolean {
  try {
    return new Deno.Command("chattr", { args: [flag, path], stderr: "null" }).outputSync().success;
  } catch {
    return false; // no chattr
  }
}
function immutableWorks(): boolean {
  const dir = Deno.makeTempDirSync({ prefix: "daemonize-chattr-probe-" });
  try {
    if (!chattr("+i", dir)) return false;
    chattr("-i", dir);
    return true;
  } finally {
    Deno.removeSync(dir);
  }
}
/** Why no file can be made immutable here, or null when one can. */
function noImmutable(): string | null {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.uid() !== 0) return "needs root for chattr +i";
  if (!immutableWorks()) {
    return "chattr +i fails in the temporary directory (no chattr, or tmpfs or overlayfs)";
  }
  return null;
}
const notImmutable = noImmutable();
const immutable = notImmutable === null;
const ignoredWhy = immutable ? "" : ` (ignored: ${notImmutable})`;

Deno.test({
  name:
    "an immutable pidfile, log file or directory: PERMISSION saying immutable, not 'make it writable'" +
    ignoredWhy,
  ignore: !immutable,
  async fn() {
    await using sb = new Sandbox();
    const frozen: string[] = [];
    const freeze = (path: string) => {
      assert.ok(chattr("+i", path), `chattr +i ${path}`);
      frozen.push(path);
    };
    try {
      const run = sb.path("run");
      const logs = sb.path("logs");
      Deno.mkdirSync(run);
      Deno.mkdirSync(logs);
      const cases = [
        { what: "pidFile", frozen: `${run}/app.pid`, file: true },
        { what: "pidFile", frozen: run, file: false },
        { what: "logFile", frozen: `${logs}/app.log`, file: true },
        { what: "logFile", frozen: logs, file: false },
      ];
      for (const c of cases) {
        if (c.file) Deno.writeTextFileSync(c.frozen, "");
        freeze(c.frozen);
        const options = { pidFile: `${run}/app.pid`, logFile: `${logs}/app.log` };
        const label = `${c.what} ${c.file ? "file" : "directory"} immutable`;
        const out = await sb.run(["start"], { options });
        assert.equal(out.code, 1, `${label}: ${out.stdout}`);
        assert.match(out.stderr, new RegExp(`${c.what} ".*" .*immutable`), label);
        assert.doesNotMatch(out.stderr, /writable by this user/, label);
        clean(out);
        const json = await sb.run(["start", "--json"], { options });
        assert.equal(jsonError(json).code, "PERMISSION", label);
        assert.deepEqual(processesWith(sb.marker), [], label);
        chattr("-i", frozen.pop()!);
        if (c.file) Deno.removeSync(c.frozen);
      }
    } finally {
      for (const path of frozen) chattr("-i", path);
    }
  },
});

Deno.test({
  name:
    "stop that cannot remove the pidfile (its directory made immutable) says so: exit 1, never plain success; the controller resolves with the reason" +
    ignoredWhy,
  ignore: !immutable,
  async fn() {
    await using sb = new Sandbox();
    const run = sb.path("run");
    Deno.mkdirSync(run);
    const options = { pidFile: `${run}/app.pid` };
    let frozen = false;
    try {
      const pid = await sb.start({ options });
      frozen = chattr("+i", run);
      assert.ok(frozen);
      const stop = await sb.run(["stop"], { options });
      assert.equal(stop.code, 1, stop.stdout);
      assert.match(
        stop.stderr,
        /stopped fx \(pid \d+\), but pidFile ".*app\.pid".*could not be removed/,
      );
      assert.match(stop.stderr, /immutable/);
      assert.doesNotMatch(stop.stdout, /^stopped/m, "no plain success");
      clean(stop);
      assert.equal(isAlive(pid), false, "the daemon was stopped all the same");

      // A start over the pidfile left behind works (it is not locked); the
      // controller's stop resolves, with the reason.
      const app = new Daemon({
        module: MODULE,
        pidFile: options.pidFile,
        logFile: sb.logFile,
        env: sb.envMarker(),
      });
      const started = await app.start();
      const stopped = await app.stop();
      assert.equal(stopped.wasRunning, true);
      assert.equal(stopped.stoppedPid, started.pid);
      assert.match(stopped.pidFileError ?? "", /could not be removed: .*immutable/);

      // Stale now, and still not removable: stop says so, --json too.
      const stale = await sb.run(["stop", "--json"], { options });
      assert.equal(stale.code, 1, stale.stdout);
      assert.equal(jsonError(stale).code, "BAD_PIDFILE");
      assert.match(jsonError(stale).message, /could not be removed: .*immutable/);
      assert.equal((await sb.run(["status"], { options })).code, 1, "dead, pidfile left");
    } finally {
      if (frozen) chattr("-i", run);
    }
  },
});

/** Runs the fixture under bash, with `redirect` after the command (`>/dev/full`, `| head -1`). */
async function shell(sb: Sandbox, args: string[], redirect: string): Promise<Output> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `"$@" ${redirect}; echo "exit=\${PIPESTATUS[0]}" >&2`,
      "bash",
      Deno.execPath(),
      "run",
      "-A",
      FIXTURE,
      ...args,
    ],
    cwd: sb.dir,
    env: { ...sb.envMarker(), FIXTURE_BEHAVIOR: "idle", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const code = Number(/exit=(\d+)\n$/.exec(stderr)?.[1]);
  return {
    code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: stderr.replace(/exit=\d+\n$/, ""),
  };
}

Deno.test("start > /dev/full: the daemon is up, exit 0, and a warning that the line could not be printed", async () => {
  await using sb = new Sandbox();
  const start = await shell(sb, ["start"], ">/dev/full");
  assert.equal(start.code, 0, start.stderr);
  assert.match(
    start.stderr,
    /could not be printed on stdout \(No space left on device.*\): started fx \(pid \d+\)/,
  );
  clean(start);
  const status = await sb.run(["status"]);
  assert.equal(status.code, 0, "it is running");
  const json = await shell(sb, ["status", "--json"], ">/dev/full");
  assert.equal(json.code, 0, json.stderr);
  const stop = await shell(sb, ["stop"], ">/dev/full");
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stderr, /: stopped fx/);
  clean(stop);
});

Deno.test("a closed pipe (logs | head -1, status | true) ends the command quietly with its own status", async () => {
  await using sb = new Sandbox();
  // More than a pipe holds (64 KiB), so that logs must write after head left.
  const line = "x".repeat(100);
  Deno.writeTextFileSync(
    sb.logFile,
    Array.from({ length: 5000 }, (_, i) => `${i + 1} ${line}\n`).join(""),
  );
  const logs = await shell(sb, ["logs", "-n", "5000"], "| head -1");
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, `1 ${line}\n`);
  assert.equal(logs.stderr, "");
  for (const args of [["status"], ["status", "--json"], ["--help"]]) {
    const out = await shell(sb, args, "| true");
    assert.equal(out.code, args[0] === "status" ? 3 : 0, `${args}: ${out.stderr}`);
    assert.equal(out.stderr, "", args.join(" "));
  }
});

Deno.test("a malformed internal launch variable in the environment: one clean error, never an uncaught SyntaxError", async () => {
  await using sb = new Sandbox();
  for (const value of ["{not json", '{"cwd":1}', "null"]) {
    for (const command of ["start", "status", "run"]) {
      const out = await sb.run([command], { env: { DAEMONIZE_LAUNCH: value } });
      assert.notEqual(out.code, 0, `${command} ${value}`);
      assert.match(out.stderr, /DAEMONIZE_LAUNCH is set but was not written by this library/);
      assert.equal(out.stderr.trim().split("\n").length, 1, out.stderr);
      clean(out);
    }
  }
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("DAEMONIZE_FAULT in the environment does nothing: the fault points are armed only by the program's code", async () => {
  await using sb = new Sandbox();
  for (const point of ["launcher-after-spawn", "daemon-before-ready"]) {
    const child = sb.command(["start"], { env: { DAEMONIZE_FAULT: point } }).spawn();
    sb.extraPids.push(child.pid);
    const output = child.output();
    // A start that stopped itself (SIGSTOP) would never end: a deadline.
    await waitFor(`start with DAEMONIZE_FAULT=${point} to end`, () => !isAlive(child.pid), 10_000);
    const out = await output;
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, `${point}: ${new TextDecoder().decode(out.stderr)}`);
    const pid = Number(/\(pid (\d+)\)/.exec(stdout)?.[1]);
    assert.notEqual(procState(pid), "T", `${point}: the daemon stopped itself`);
    assert.equal((await sb.run(["stop"])).code, 0);
  }
});
