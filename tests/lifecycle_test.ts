// start / stop / restart / status on real daemons.

import assert from "node:assert/strict";
import { isAlive, processesWith, Sandbox, statOf, waitFor } from "./_helpers.ts";

Deno.test("start returns once the daemon holds the lock, has written its pid and logs", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  assert.equal(Deno.readTextFileSync(sb.pidFile), `${pid}\n`);
  assert.ok(isAlive(pid));
  const log = sb.readLog();
  assert.match(log, /\[INF\] fx: up/);
  assert.match(log, new RegExp(`daemonize: started fx \\(pid ${pid}\\)`));
  const pidfile = Deno.openSync(sb.pidFile, { read: true });
  try {
    assert.equal(pidfile.tryLockSync(false), false, "the daemon holds an exclusive lock");
  } finally {
    pidfile.close();
  }
});

Deno.test("start when already running says so, exits 0 and starts no second instance", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const again = await sb.run(["start"]);
  assert.equal(again.code, 0);
  assert.equal(again.stdout.trim(), `already running (pid ${pid})`);
  assert.deepEqual(processesWith(sb.marker), [pid]);
});

Deno.test("20 concurrent starts leave exactly one daemon, and every start names it", async () => {
  await using sb = new Sandbox();
  const outs = await Promise.all(Array.from({ length: 20 }, () => sb.run(["start"])));
  for (const out of outs) assert.equal(out.code, 0, out.stderr);
  const pids = outs.map((o) => Number(/\(pid (\d+)\)/.exec(o.stdout)?.[1]));
  assert.equal(new Set(pids).size, 1, `all starts name one pid: ${pids}`);
  assert.equal(outs.filter((o) => o.stdout.startsWith("started")).length, 1);
  await waitFor("losing children to exit", () => processesWith(sb.marker).length === 1);
  assert.deepEqual(processesWith(sb.marker), [pids[0]]);
  assert.equal(Deno.readTextFileSync(sb.pidFile), `${pids[0]}\n`);
});

Deno.test("stop returns once the daemon has exited, with its pidfile removed and its exit logged", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const out = await sb.run(["stop"]);
  assert.equal(out.code, 0);
  assert.equal(out.stdout.trim(), `stopped fx (pid ${pid})`);
  assert.equal(isAlive(pid), false);
  assert.equal(sb.exists("app.pid"), false);
  const lines = sb.readLog().trimEnd().split("\n");
  assert.match(lines.at(-1)!, /exiting: stopped by SIGTERM \(exit code 0\)/);
  assert.ok(lines.some((l) => l.includes("fx: down")), "main saw the abort and returned");
});

Deno.test("stop and status with no daemon and no pidfile: not running, exit 0 and 3", async () => {
  await using sb = new Sandbox();
  const stop = await sb.run(["stop"]);
  assert.equal(stop.code, 0);
  assert.equal(stop.stdout.trim(), "not running");
  const status = await sb.run(["status"]);
  assert.equal(status.code, 3);
  assert.equal(status.stdout.trim(), "fx is not running");
});

Deno.test("after kill -9 the stale pidfile reads as dead (status 1) and does not block a start", async () => {
  await using sb = new Sandbox();
  const first = await sb.start();
  Deno.kill(first, "SIGKILL");
  await waitFor("the daemon to die", () => !isAlive(first));
  const status = await sb.run(["status"]);
  assert.equal(status.code, 1);
  assert.match(status.stdout, /not running, but its pidfile .* remains \(pid \d+\)/);
  const second = await sb.start();
  assert.notEqual(second, first);
  assert.equal(Deno.readTextFileSync(sb.pidFile), `${second}\n`);
});

Deno.test("stop never signals a live unrelated process whose pid is in a stale pidfile", async () => {
  await using sb = new Sandbox();
  const stranger = new Deno.Command("sleep", { args: ["30"] }).spawn();
  sb.extraPids.push(stranger.pid);
  try {
    Deno.writeTextFileSync(sb.pidFile, `${stranger.pid}\n`);
    const stop = await sb.run(["stop"]);
    assert.equal(stop.code, 0);
    assert.match(stop.stdout, /not running \(removed stale pidfile/);
    assert.ok(isAlive(stranger.pid), "the stranger was not signalled");
    assert.equal(sb.exists("app.pid"), false);
  } finally {
    stranger.kill("SIGKILL");
    await stranger.status;
  }
});

Deno.test("stop escalates to SIGKILL after stopTimeout when the daemon ignores SIGTERM", async () => {
  await using sb = new Sandbox();
  const options = { stopTimeout: 300 };
  const pid = await sb.start({ behavior: "ignore-term", options });
  const t0 = performance.now();
  const out = await sb.run(["stop"], { behavior: "ignore-term", options });
  const took = performance.now() - t0;
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), `stopped fx (pid ${pid}, after SIGKILL)`);
  assert.ok(took >= 300, `waited stopTimeout before SIGKILL (${took} ms)`);
  assert.equal(isAlive(pid), false);
  assert.equal(sb.exists("app.pid"), false);
  assert.match(sb.readLog(), /stopping: SIGTERM/);
});

Deno.test("a daemon whose event loop is blocked is killed after stopTimeout", async () => {
  await using sb = new Sandbox();
  const options = { stopTimeout: 300 };
  const pid = await sb.start({ behavior: "busy", options });
  await waitFor("the event loop to be blocked", () => sb.exists("blocking"));
  const out = await sb.run(["stop"], { options });
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /after SIGKILL/);
  assert.equal(isAlive(pid), false);
});

Deno.test("status: exit 0 with pid, uptime and log file while running; --json prints one object", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const human = await sb.run(["status"]);
  assert.equal(human.code, 0);
  assert.match(
    human.stdout,
    new RegExp(`fx is running \\(pid ${pid}, up \\d+s, log ${sb.logFile}\\)`),
  );
  const json = await sb.run(["status", "--json"]);
  assert.equal(json.code, 0);
  const status = JSON.parse(json.stdout);
  assert.equal(status.running, true);
  assert.equal(status.pid, pid);
  assert.equal(status.pidFile, sb.pidFile);
  assert.equal(status.logFile, sb.logFile);
  assert.equal(status.stale, false);
  assert.ok(Date.now() - Date.parse(status.startedAt) < 60_000);
});

Deno.test("status exits 4 (unknown) when the pidfile cannot be read", async () => {
  await using sb = new Sandbox();
  Deno.mkdirSync(sb.pidFile);
  const out = await sb.run(["status"]);
  assert.equal(out.code, 4);
  assert.match(out.stderr, /is a directory/);
});

Deno.test("restart stops the running daemon and starts a new one", async () => {
  await using sb = new Sandbox();
  const first = await sb.start();
  const out = await sb.run(["restart"]);
  assert.equal(out.code, 0, out.stderr);
  const second = Number(/started fx \(pid (\d+)\)/.exec(out.stdout)?.[1]);
  assert.ok(second > 0 && second !== first);
  assert.equal(isAlive(first), false);
  assert.deepEqual(processesWith(sb.marker), [second]);
});

Deno.test("restart with nothing running just starts", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["restart"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /not running\nstarted fx \(pid \d+\)/);
});

Deno.test("the daemon runs in its keeper's session, not as its leader, without a terminal, in cwd with umask, env and args", async () => {
  await using sb = new Sandbox();
  const work = sb.path("work");
  Deno.mkdirSync(work);
  Deno.writeTextFileSync(sb.path("input.txt"), "from stdin option");
  const pid = await sb.start({
    behavior: "report",
    options: {
      cwd: work,
      umask: 0o077,
      env: { FIXTURE_EXTRA_ENV: "yes" },
      stdin: sb.path("input.txt"),
    },
    env: { FIXTURE_EXTRA_ENV: "" },
  });
  const report = await waitFor("the report", () => sb.readLog("report.json"));
  const r = JSON.parse(report);
  assert.equal(r.pid, pid);
  assert.notEqual(r.sid, pid, "not a session leader, so it can never acquire a terminal");
  const keeper = statOf(r.sid);
  assert.equal(statOf(r.sid)[3], String(r.sid), "the keeper leads the daemon's own session");
  assert.equal(keeper[4], "0", "the session has no controlling terminal");
  assert.equal(r.tty, 0, "no controlling terminal");
  assert.equal(r.cwd, work);
  assert.equal(r.umask, 0o077);
  assert.equal(r.env, "yes");
  assert.equal(r.stdin, "from stdin option");
  assert.deepEqual(r.args, []);
  await waitFor("the daemon's file", () => sb.exists("work/created-by-daemon.txt"));
  assert.equal(Deno.statSync(sb.path("work/created-by-daemon.txt")).mode! & 0o777, 0o600);
});

Deno.test("stdin is the null device by default and arguments after -- reach ctx.args", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start", "--", "--port", "8080"], { behavior: "report" });
  assert.equal(out.code, 0, out.stderr);
  const r = JSON.parse(await waitFor("the report", () => sb.readLog("report.json")));
  assert.equal(r.stdin, "");
  assert.deepEqual(r.args, ["--port", "8080"]);
  assert.deepEqual(r.argv, ["--port", "8080"], "the daemon's Deno.args are the program's only");
  assert.equal(r.cwd, sb.dir);
});

Deno.test("stop never signals a pid written into a held pidfile that does not hold the lock", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const stranger = new Deno.Command("sleep", { args: ["30"] }).spawn();
  sb.extraPids.push(stranger.pid);
  try {
    for (
      const [forged, why] of [[stranger.pid, /does not hold its lock/], [
        1,
        /which (is init|does not hold its lock)/,
      ]] as const
    ) {
      Deno.writeTextFileSync(sb.pidFile, `${forged}\n`); // the lock is advisory: anyone can write
      const stop = await sb.run(["stop"]);
      assert.equal(stop.code, 1);
      assert.match(stop.stderr, new RegExp(`names pid ${forged}, .*refusing to signal it`));
      assert.match(stop.stderr, why);
      assert.ok(isAlive(stranger.pid), "the stranger was not signalled");
      assert.ok(isAlive(pid), "nor was the daemon");
    }
    Deno.writeTextFileSync(sb.pidFile, `${pid}\n`);
    assert.equal((await sb.run(["stop"])).code, 0);
    assert.equal(isAlive(pid), false);
  } finally {
    stranger.kill("SIGKILL");
    await stranger.status;
  }
});
