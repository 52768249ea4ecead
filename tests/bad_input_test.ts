// Bad input: a DaemonError with a code, one clean line naming the file,
// option or pid, a non-zero exit, and nothing created or overwritten elsewhere.

import assert from "node:assert/strict";
import { processesWith, Sandbox } from "./_helpers.ts";

function assertCleanError(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
  assert.doesNotMatch(stderr, /Uncaught/);
}

Deno.test("an unknown command prints usage on stderr and exits 2; no command likewise", async () => {
  await using sb = new Sandbox();
  for (const args of [["launch"], []]) {
    const out = await sb.run(args);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /Usage: deno run -A app\.ts <command>/);
    assert.equal(out.stdout, "");
  }
});

Deno.test("--help prints usage on stdout and exits 0", async () => {
  await using sb = new Sandbox();
  for (const args of [["--help"], ["-h"], ["start", "--help"], ["run", "--help"], ["logs", "-h"]]) {
    const out = await sb.run(args);
    assert.equal(out.code, 0, args.join(" "));
    assert.match(out.stdout, /Commands:\n\s+start/);
    assert.match(out.stdout, /go after "--"/, "the help says where the program's arguments go");
  }
  assert.equal(sb.exists("app.log"), false, "run --help ran nothing");
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("start, stop and status without a pidFile: BAD_OPTION naming pidFile; status exits 4 (LSB unknown)", async () => {
  await using sb = new Sandbox();
  for (const [command, code] of [["start", 1], ["stop", 1], ["status", 4]] as const) {
    const out = await sb.run([command], { options: { pidFile: null } });
    assert.equal(out.code, code, command);
    assert.match(out.stderr, /option "pidFile" is required/);
    assertCleanError(out.stderr);
  }
});

Deno.test("a pidfile that is a symlink is refused and never followed, the target unchanged", async () => {
  await using sb = new Sandbox();
  const target = sb.path("precious.txt");
  Deno.writeTextFileSync(target, "do not touch\n");
  Deno.symlinkSync(target, sb.pidFile);
  for (const command of ["start", "stop", "status"]) {
    const out = await sb.run([command]);
    assert.notEqual(out.code, 0, command);
    assert.match(out.stderr, /pidFile ".*app\.pid" is a symlink/);
    assertCleanError(out.stderr);
  }
  assert.equal(Deno.readTextFileSync(target), "do not touch\n");
  assert.ok(Deno.lstatSync(sb.pidFile).isSymlink);
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("a dangling symlink as pidfile or log file is refused and its target is not created", async () => {
  await using sb = new Sandbox();
  Deno.symlinkSync(sb.path("nowhere.pid"), sb.pidFile);
  const out = await sb.run(["start"]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /is a symlink/);
  assert.equal(sb.exists("nowhere.pid"), false);

  Deno.removeSync(sb.pidFile);
  Deno.symlinkSync(sb.path("nowhere.log"), sb.logFile);
  const log = await sb.run(["start"]);
  assert.equal(log.code, 1);
  assert.match(log.stderr, /logFile ".*app\.log" is a symlink/);
  assertCleanError(log.stderr);
  assert.equal(sb.exists("nowhere.log"), false);
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("a pidfile that is a directory is refused with BAD_PIDFILE", async () => {
  await using sb = new Sandbox();
  Deno.mkdirSync(sb.pidFile);
  const out = await sb.run(["start"]);
  assert.equal(out.code, 1);
  assert.match(out.stderr, /pidFile ".*app\.pid" is a directory/);
  assertCleanError(out.stderr);
});

Deno.test("a pidfile in a missing directory is refused and the directory is not created", async () => {
  await using sb = new Sandbox();
  const options = { pidFile: sb.path("missing/app.pid") };
  const out = await sb.run(["start"], { options });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /directory .*missing of pidFile ".*missing\/app\.pid" does not exist/);
  assert.equal(sb.exists("missing"), false);
  assertCleanError(out.stderr);
});

Deno.test("an unwritable pidfile location: PERMISSION naming the file, and no daemon", async () => {
  await using sb = new Sandbox();
  // Deno's own permissions make the directory unwritable even for root.
  const flags = [
    "--allow-read",
    "--allow-run",
    "--allow-env",
    `--allow-write=${sb.path("elsewhere")}`,
  ];
  const out = await sb.run(["start"], { denoFlags: flags, options: { logFile: null } });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /Deno denied access to pidFile ".*app\.pid"/);
  assertCleanError(out.stderr);
  assert.equal(sb.exists("app.pid"), false);
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("a garbage or empty pidfile with no daemon does not block start and is overwritten", async () => {
  for (const content of ["garbage\n", "", "123abc\n", "-5\n", "99999999999\n"]) {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, content);
    const status = await sb.run(["status"]);
    assert.equal(status.code, 1, `stale for ${JSON.stringify(content)}`);
    const pid = await sb.start();
    assert.equal(Deno.readTextFileSync(sb.pidFile), `${pid}\n`);
  }
});

Deno.test("stop with a garbage pidfile and no daemon signals nothing and removes it", async () => {
  await using sb = new Sandbox();
  Deno.writeTextFileSync(sb.pidFile, "1\n");
  const out = await sb.run(["stop"]);
  assert.equal(out.code, 0);
  assert.match(out.stdout, /not running \(removed stale pidfile/);
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("a losing start never damages the running daemon's pidfile", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  await Promise.all([sb.run(["start"]), sb.run(["start"]), sb.run(["start"])]);
  assert.equal(Deno.readTextFileSync(sb.pidFile), `${pid}\n`);
});

Deno.test("invalid option values: BAD_OPTION naming the option, exit 1, no stack, nothing started", async () => {
  await using sb = new Sandbox();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ stopTimeout: -1 }, /option "stopTimeout" must be/],
    [{ readyTimeout: "soon" }, /option "readyTimeout" must be/],
    [{ umask: 0o1000 }, /option "umask" must be an integer from 0 to 0o777/],
    [{ name: "" }, /option "name" must be a non-empty/],
    [{ logLevel: "loud" }, /option "logLevel" must be one of/],
    [{ readiness: "maybe" }, /option "readiness" must be/],
    [{ pidfile: "x.pid" }, /option "pidfile" is not an option; did you mean "pidFile"\?/],
    [{ env: { A: 1 } }, /option "env" must be/],
    [{ denoArgs: "--allow-all" }, /option "denoArgs" must be an array/],
  ];
  for (const [options, message] of cases) {
    for (const command of ["start", "run"]) {
      const out = await sb.run([command], { options });
      assert.equal(out.code, 1, JSON.stringify(options));
      assert.match(out.stderr, message);
      assertCleanError(out.stderr);
    }
  }
  assert.equal(sb.exists("app.pid"), false);
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("a stdout option that is a symlink or a missing cwd is refused before anything starts", async () => {
  await using sb = new Sandbox();
  Deno.writeTextFileSync(sb.path("target.txt"), "keep");
  Deno.symlinkSync(sb.path("target.txt"), sb.path("out.txt"));
  const out = await sb.run(["start"], { options: { stdout: sb.path("out.txt") } });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /stdout ".*out\.txt" is a symlink/);
  assert.equal(Deno.readTextFileSync(sb.path("target.txt")), "keep");
  const cwd = await sb.run(["start"], { options: { cwd: sb.path("nope") } });
  assert.equal(cwd.code, 1);
  assert.match(cwd.stderr, /option "cwd" names ".*nope", which is not a directory/);
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("daemonize() with something other than a function or a class: BAD_OPTION, one clean line", async () => {
  await using sb = new Sandbox();
  for (const script of ["bad_main.ts", "no_run.ts"]) {
    const out = await sb.run(["start"], { script });
    assert.equal(out.code, 1, script);
    assert.match(out.stderr, /daemonize\(\) takes an async function|has no run\(ctx\) method/);
    assertCleanError(out.stderr);
  }
});

Deno.test("logs never follows a symlinked log file: BAD_OPTION, nothing of the target shown, -f too", async () => {
  await using sb = new Sandbox();
  const secret = sb.path("secret.txt");
  Deno.writeTextFileSync(secret, "SECRET LINE\n");
  Deno.symlinkSync(secret, sb.logFile);
  for (const args of [["logs"], ["logs", "--json"], ["logs", "-f"]]) {
    const out = await sb.run(args);
    assert.equal(out.code, 1, args.join(" "));
    assert.match(out.stdout + out.stderr, /logFile \\?".*app\.log\\?" is a symlink/);
    assert.doesNotMatch(out.stdout + out.stderr, /SECRET/);
    assertCleanError(out.stderr);
  }
});
