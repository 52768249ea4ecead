// The Daemon controller, in this process: typed results, no shell.

import assert from "node:assert/strict";
import { Daemon, DaemonError } from "../mod.ts";
import { isAlive, Sandbox } from "./_helpers.ts";

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
  assert.equal(started.name, "app");
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
