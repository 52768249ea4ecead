// The Daemon controller, in this process: typed results, no shell.

import assert from "node:assert/strict";
import { Daemon, DaemonError } from "../mod.ts";
import { isAlive, Sandbox, waitFor } from "./_helpers.ts";

const MODULE = new URL("./fixtures/app.ts", import.meta.url);

function controller(sb: Sandbox, behavior = "idle", extra: Record<string, unknown> = {}): Daemon {
  return new Daemon({
    module: MODULE,
    pidFile: sb.pidFile,
    logFile: sb.logFile,
    env: { FIXTURE_DIR: sb.dir, FIXTURE_BEHAVIOR: behavior },
    ...extra,
  });
}

Deno.test("Daemon: start, status, start again, stop, status resolve to typed results", async () => {
  await using sb = new Sandbox();
  const app = controller(sb);
  const started = await app.start();
  assert.equal(started.running, true);
  assert.equal(started.alreadyRunning, false);
  assert.equal(started.pidFile, sb.pidFile);
  assert.equal(started.logFile, sb.logFile);
  assert.equal(started.name, "fx", "the script's own name");
  assert.ok(started.pid !== null && isAlive(started.pid));

  const status = await app.status();
  assert.equal(status.running, true);
  assert.equal(status.pid, started.pid);
  assert.ok(status.startedAt instanceof Date);

  const again = await app.start();
  assert.equal(again.alreadyRunning, true);
  assert.equal(again.pid, started.pid);

  const stopped = await app.stop();
  assert.equal(stopped.wasRunning, true);
  assert.equal(stopped.stoppedPid, started.pid);
  assert.equal(stopped.killed, false);
  assert.equal(stopped.running, false);
  assert.equal(isAlive(started.pid), false);

  const after = await app.status();
  assert.deepEqual({ running: after.running, stale: after.stale, pid: after.pid }, {
    running: false,
    stale: false,
    pid: null,
  });
});

Deno.test("Daemon: restart replaces the daemon", async () => {
  await using sb = new Sandbox();
  const app = controller(sb);
  const first = await app.start();
  const second = await app.restart();
  assert.equal(second.alreadyRunning, false);
  assert.notEqual(second.pid, first.pid);
  assert.equal(isAlive(first.pid!), false);
  await app.stop();
});

Deno.test("Daemon: a failing daemon rejects start with START_FAILED and leaves nothing", async () => {
  await using sb = new Sandbox();
  const app = controller(sb, "throw-sync");
  await assert.rejects(app.start(), (e: unknown) => {
    assert.ok(e instanceof DaemonError);
    assert.equal(e.code, "START_FAILED");
    assert.match(e.message, /boom-sync/);
    return true;
  });
  assert.equal((await app.status()).running, false);
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("Daemon: bad options are BAD_OPTION at construction", () => {
  for (
    const options of [
      { module: "" },
      { module: MODULE, stopTimeout: -5 },
      { module: MODULE, umask: 0o1000 },
      { module: MODULE, name: "" },
    ]
  ) {
    assert.throws(
      () => new Daemon(options),
      (e: unknown) => e instanceof DaemonError && e.code === "BAD_OPTION",
    );
  }
});

Deno.test("Daemon: stop and status without a daemon resolve to not running", async () => {
  await using sb = new Sandbox();
  const app = controller(sb);
  const stopped = await app.stop();
  assert.equal(stopped.wasRunning, false);
  assert.equal(stopped.stoppedPid, null);
  assert.equal((await app.status()).running, false);
});

Deno.test("Daemon: given only the module, it manages the script's own daemon under its own name", async () => {
  await using sb = new Sandbox();
  const app = new Daemon({ module: MODULE, env: sb.envMarker() });
  const options = await app.options();
  assert.equal(options.name, "fx");
  assert.equal(options.pidFile, sb.pidFile);
  assert.equal(options.logFile, sb.logFile);
  assert.equal(options.stopTimeout, 2000, "the script's own stopTimeout");
  const started = await app.start();
  assert.equal(started.name, "fx");
  assert.equal(started.pidFile, sb.pidFile);
  const status = await app.status();
  assert.deepEqual([status.name, status.running, status.pid], ["fx", true, started.pid]);
  assert.equal(status.startedAt?.getTime(), started.startedAt?.getTime());
  assert.equal((await app.stop()).stoppedPid, started.pid);
});

Deno.test("Daemon: a failed start shows the script's own log, which the controller was not told about", async () => {
  await using sb = new Sandbox();
  const app = new Daemon({
    module: MODULE,
    env: { ...sb.envMarker(), FIXTURE_BEHAVIOR: "throw-sync" },
  });
  await assert.rejects(app.start(), (e: unknown) => {
    assert.ok(e instanceof DaemonError);
    assert.equal(e.code, "START_FAILED");
    assert.match(e.message, new RegExp(`last lines of ${sb.logFile}:`));
    assert.match(e.message, /main threw: Error: boom-sync/);
    assert.doesNotMatch(e.message, /dev\/null/);
    return true;
  });
});

Deno.test("Daemon: args are the program's own (ctx.args and the daemon's Deno.args)", async () => {
  await using sb = new Sandbox();
  const app = new Daemon({
    module: MODULE,
    env: { ...sb.envMarker(), FIXTURE_BEHAVIOR: "report" },
    cwd: sb.dir, // the report writes a file into it
    args: ["--port", "8080"],
  });
  await app.start();
  const report = JSON.parse(await waitFor("the report", () => sb.readLog("report.json")));
  assert.deepEqual(report.args, ["--port", "8080"]);
  assert.deepEqual(report.argv, ["--port", "8080"]);
  assert.deepEqual((await app.options()).args, ["--port", "8080"]);
  await app.stop();
});

Deno.test("Daemon: onReload is refused (SIGHUP is handled in the daemon, by the script's own)", () => {
  assert.throws(
    () => new Daemon({ module: MODULE, onReload: () => {} } as never),
    (e: unknown) =>
      e instanceof DaemonError && e.code === "BAD_OPTION" && /onReload/.test(e.message),
  );
});

Deno.test("Daemon: a script that fails before daemonize() is a clear error, and nothing is started", async () => {
  await using sb = new Sandbox();
  const app = new Daemon({
    module: MODULE,
    env: { ...sb.envMarker(), FIXTURE_BEHAVIOR: "no-such-behavior" },
  });
  await assert.rejects(app.status(), (e: unknown) => {
    assert.ok(e instanceof DaemonError);
    assert.equal(e.code, "BAD_OPTION");
    assert.match(e.message, /unknown FIXTURE_BEHAVIOR no-such-behavior/);
    return true;
  });
  await assert.rejects(
    app.start(),
    (e: unknown) => e instanceof DaemonError && e.code === "START_FAILED",
  );
  assert.equal(sb.exists("app.pid"), false);
  const invalid = new Daemon({
    module: MODULE,
    env: { ...sb.envMarker(), FIXTURE_OPTIONS: JSON.stringify({ umask: 0o1000 }) },
  });
  await assert.rejects(
    invalid.stop(),
    (e: unknown) => e instanceof DaemonError && e.code === "BAD_OPTION" && /umask/.test(e.message),
  );
});

Deno.test("Daemon: learning the script's options keeps nothing alive once a call settles", async () => {
  await using sb = new Sandbox();
  const script = sb.path("caller.ts");
  Deno.writeTextFileSync(
    script,
    `import { Daemon } from ${JSON.stringify(new URL("../mod.ts", import.meta.url).href)};
const app = new Daemon({ module: ${JSON.stringify(MODULE.href)}, readyTimeout: 60000 });
console.log((await app.status()).name);
await new Daemon({ module: ${JSON.stringify(new URL("./fixtures/no_run.ts", import.meta.url).href)},
  readyTimeout: 60000 }).status().catch((e) => console.log(e.code));
`,
  );
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    cwd: sb.dir,
    env: sb.envMarker(),
  }).output();
  const took = performance.now() - t0;
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), "fx\nBAD_OPTION\n");
  assert.ok(took < 20_000, `the caller exited after ${took} ms, not readyTimeout`);
});

Deno.test("Daemon: reading the script's options runs no command, even one the script names itself", async () => {
  await using sb = new Sandbox();
  const app = new Daemon({
    module: MODULE,
    env: { ...sb.envMarker(), FIXTURE_OPTIONS: JSON.stringify({ args: ["start"] }) },
  });
  const status = await app.status();
  assert.equal(status.running, false);
  assert.equal(sb.exists("app.pid"), false, "nothing was started");
  assert.equal(sb.exists("app.log"), false, "main never ran");
});
