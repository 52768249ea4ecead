// Restart on crash (the `restart` option): a keeper shell holds the
// pidfile's lock between runs and starts main again; real processes,
// real kill -9.

import assert from "node:assert/strict";
import { Daemon } from "../mod.ts";
import { isAlive, processesWith, type RunOptions, Sandbox, waitFor } from "./_helpers.ts";
import { afterRestarts, keeperFile, mainPid } from "./_keeper.ts";

async function statusJson(sb: Sandbox, o: RunOptions = {}) {
  const out = await sb.run(["status", "--json"], o);
  return { code: out.code, status: JSON.parse(out.stdout) };
}

const keep = (extra: Record<string, unknown> = {}): RunOptions => ({
  options: { restart: "on-failure", restartDelay: 100, ...extra },
});

for (const stdout of ["/dev/null", "out.txt"]) {
  Deno.test(`the keeper's lines go with raw stderr (the log by default), wherever stdout goes (${stdout})`, async () => {
    await using sb = new Sandbox();
    const o = keep({ restartDelay: 20, stdout: stdout.startsWith("/") ? stdout : sb.path(stdout) });
    await sb.start(o);
    const first = await mainPid(sb);
    Deno.kill(first, "SIGKILL");
    await waitFor(
      "the keeper's line in the log",
      () => /daemonize: fx ended \(killed by SIGKILL\); restart 1 in 20 ms/.test(sb.readLog()),
    );
    await mainPid(sb, first);
    assert.equal((await sb.run(["stop"], o)).code, 0);
    assert.doesNotMatch(sb.readLog("out.txt"), /daemonize:/, "no keeper line in stdout's file");
  });
}

Deno.test("kill -9 of the worker (what the OOM killer does): main runs again, the lock never freed", async () => {
  await using sb = new Sandbox();
  const o = keep({ restartDelay: 2000 });
  const keeper = await sb.start(o);
  const first = await mainPid(sb);
  assert.notEqual(first, keeper, "the pidfile names the keeper, which holds the lock");
  Deno.kill(first, "SIGKILL");
  const during = await afterRestarts(sb, 1);
  // Inside the 2 s delay: no main runs, and the keeper still holds the lock.
  assert.equal(during.main === null || !isAlive(during.main), true);
  assert.equal(isAlive(first), false);
  const start = await sb.run(["start"], o);
  assert.equal(start.code, 0, start.stderr);
  assert.match(start.stdout, new RegExp(`already running \\(pid ${keeper}\\)`));
  const { code, status } = await statusJson(sb, o);
  assert.equal(code, 0, "running during the delay");
  assert.equal(status.pid, keeper);
  assert.equal(status.restarts, 1);
  assert.equal(status.lastExit.reason, "killed by SIGKILL");
  const second = await mainPid(sb, first);
  assert.ok(isAlive(second));
  await waitFor("the keeper's line", () => sb.readLog().includes("restart 1 in 2000 ms"));
  assert.deepEqual(processesWith(sb.marker).sort(), [second], "one main, nothing else in Deno");
  const log = sb.readLog();
  assert.match(log, /daemonize: fx ended \(killed by SIGKILL\); restart 1 in 2000 ms/);
  assert.equal(log.match(/\[INF\] fx: up/g)?.length, 2, "main ran twice");
  const stop = await sb.run(["stop"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(isAlive(second), false);
  assert.deepEqual(processesWith(sb.marker, true), [], "keeper and copier gone too");
  assert.equal(sb.exists("app.pid"), false);
});

Deno.test("status while a restarted daemon stops still shows its restarts and last exit", async () => {
  await using sb = new Sandbox();
  const o = { ...keep(), behavior: "slow-stop", env: { FIXTURE_STOP_MS: "1500" } };
  await sb.start(o);
  const first = await mainPid(sb);
  Deno.kill(first, "SIGKILL");
  await afterRestarts(sb, 1);
  await mainPid(sb, first);
  const stopping = sb.command(["stop"], o).spawn();
  sb.extraPids.push(stopping.pid);
  await waitFor("the daemon to be stopping", () => sb.readLog().includes("stopping slowly"));
  const { code, status } = await statusJson(sb, o);
  assert.equal(status.stopping, true, "asked while it stops");
  assert.equal(code, 0);
  assert.equal(status.restarts, 1);
  assert.equal(status.lastExit?.reason, "killed by SIGKILL");
  assert.equal((await stopping.output()).code, 0);
});

Deno.test("a main that throws after a second is started again, with the error and the delay in the log", async () => {
  await using sb = new Sandbox();
  const o = { ...keep(), behavior: "crash-after", env: { FIXTURE_CRASH_MS: "1000" } };
  await sb.start(o);
  const first = await mainPid(sb);
  await afterRestarts(sb, 1);
  const second = await mainPid(sb, first);
  await waitFor("the keeper's line", () => sb.readLog().includes("restart 1 in 100 ms"));
  const log = sb.readLog();
  assert.match(log, /exiting: main failed \(exit code 1\): Error: crash after 1000 ms/);
  assert.match(log, /fx ended \(exit code 1\); restart 1 in 100 ms/);
  assert.match(log, new RegExp(`main up \\(pid ${second}\\)`));
  assert.equal((await sb.run(["stop"], o)).code, 0);
});

Deno.test("a crash loop gives up after maxRestarts, says so, and status reads dead (1)", async () => {
  await using sb = new Sandbox();
  const o = {
    ...keep({ restartDelay: 20, maxRestarts: 2 }),
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "100" },
  };
  await sb.start(o);
  await waitFor("the keeper to give up", () => keeperFile(sb)?.gaveUp ? true : null, 15_000);
  await waitFor("nothing left", () => processesWith(sb.marker, true).length === 0);
  const log = sb.readLog();
  assert.equal(log.match(/main up \(pid \d+\)/g)?.length, 3, "the first run and 2 restarts");
  assert.match(log, /restart 1 in 20 ms/);
  assert.match(log, /restart 2 in 40 ms/, "the delay doubles");
  assert.match(log, /\[FTL\] daemonize: giving up after 2 restarts: 3 consecutive failures/);
  const { code, status } = await statusJson(sb, o);
  assert.equal(code, 1, "dead, pidfile left");
  assert.equal(status.stale, true);
  assert.equal(status.restarts, 2);
});

Deno.test("stop during the delay stops everything, and no main starts after it returns", async () => {
  await using sb = new Sandbox();
  const o = keep({ restartDelay: 5000 });
  await sb.start(o);
  const first = await mainPid(sb);
  Deno.kill(first, "SIGKILL");
  await afterRestarts(sb, 1);
  const t0 = performance.now();
  const stop = await sb.run(["stop"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.ok(performance.now() - t0 < 2000, "stop did not wait out the 5 s delay");
  assert.deepEqual(processesWith(sb.marker, true), []);
  assert.equal(sb.exists("app.pid"), false);
  const ups = sb.readLog().match(/\[INF\] fx: up/g)?.length;
  // Give a main started by mistake time to log.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sb.readLog().match(/\[INF\] fx: up/g)?.length, ups);
  assert.equal(ups, 1);
});

Deno.test('restart: "never" leaves a killed daemon dead: status 1, no keeper left', async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  Deno.kill(pid, "SIGKILL");
  await waitFor("the keeper to go", () => processesWith(sb.marker, true).length === 0);
  const status = await sb.run(["status"]);
  assert.equal(status.code, 1);
  assert.doesNotMatch(sb.readLog(), /restart 1/);
  assert.match(sb.readLog(), /daemon was killed by SIGKILL|killed by SIGKILL/);
});

Deno.test('restart: "always" starts main again after it returns', async () => {
  await using sb = new Sandbox();
  const o = { options: { restart: "always", restartDelay: 50 }, behavior: "crash-after" };
  // crash-after returns cleanly when stopped; here main returns by itself.
  await sb.start({ ...o, behavior: "returns" });
  await afterRestarts(sb, 2);
  await waitFor("the restart in the log", () => sb.readLog().includes("restart 2 in 50 ms"));
  assert.match(sb.readLog(), /fx ended \(exit code 0\); restart 1 in 50 ms/);
  assert.equal((await sb.run(["stop"], o)).code, 0);
  assert.deepEqual(processesWith(sb.marker, true), []);
});

Deno.test("20 concurrent starts of a crashing daemon leave one keeper and at most one main", async () => {
  await using sb = new Sandbox();
  const o = {
    ...keep({ restartDelay: 20 }),
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "150" },
  };
  const starts = await Promise.all(Array.from({ length: 20 }, () => sb.run(["start"], o)));
  for (const out of starts) assert.equal(out.code, 0, out.stderr);
  const keepers = new Set(starts.map((out) => /\(pid (\d+)\)/.exec(out.stdout)?.[1]));
  assert.equal(keepers.size, 1, `every start names the one keeper: ${[...keepers]}`);
  let most = 0;
  const deadline = performance.now() + 1500;
  while (performance.now() < deadline) {
    most = Math.max(most, processesWith(sb.marker).length);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(most <= 1, `at most one main at a time, saw ${most}`);
  assert.ok((keeperFile(sb)?.restarts ?? 0) >= 1, "it did crash meanwhile");
  assert.equal((await sb.run(["stop"], o)).code, 0);
  assert.deepEqual(processesWith(sb.marker, true), []);
});

Deno.test("reload and restart behave with a keeper as without one", async () => {
  await using sb = new Sandbox();
  const o = keep();
  const keeper = await sb.start(o);
  const first = await mainPid(sb);
  const reload = await sb.run(["reload"], o);
  assert.equal(reload.code, 0, reload.stderr);
  await waitFor("onReload in the log", () => sb.readLog().includes("onReload called"));
  const restart = await sb.run(["restart"], o);
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stdout, new RegExp(`stopped fx \\(pid ${keeper}\\)\\nstarted fx`));
  assert.equal(isAlive(first), false);
  await mainPid(sb, first);
  assert.equal((await sb.run(["stop"], o)).code, 0);
});

Deno.test("run with restart starts main again in the foreground, and SIGTERM still ends it", async () => {
  await using sb = new Sandbox();
  const child = await sb.foreground({
    ...keep({ restartDelay: 20 }),
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "100" },
  });
  await waitFor("a restart in the foreground", () => /restart 2 in 40 ms/.test(sb.readLog()));
  child.kill("SIGTERM");
  const status = await child.output();
  assert.equal(status.code, 0);
  assert.match(sb.readLog(), /exiting: stopped by SIGTERM \(exit code 0\)/);
});

Deno.test("a start from a launcher that ignores SIGTERM still gets a keeper that stops on SIGTERM", async () => {
  await using sb = new Sandbox();
  const o = keep({ stopTimeout: 3000 });
  // As a shell script's background job or nohup would start it: the
  // launcher inherits ignored signals, which a shell could not trap.
  const fixture = new URL("./fixtures/app.ts", import.meta.url).pathname;
  const start = await new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `trap '' TERM INT QUIT HUP; exec "$@"`,
      "sh",
      Deno.execPath(),
      "run",
      "-A",
      fixture,
      "start",
    ],
    cwd: sb.dir,
    env: sb.fixtureEnv(o),
    stdin: "null",
  }).output();
  assert.equal(start.code, 0, new TextDecoder().decode(start.stderr));
  const t0 = performance.now();
  const stop = await sb.run(["stop", "--json"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(JSON.parse(stop.stdout).killed, false, "the keeper had to be killed");
  assert.ok(performance.now() - t0 < 3000, "stop waited for stopTimeout");
  assert.deepEqual(processesWith(sb.marker, true), []);
});

/** Lines of the file `name` in the sandbox, none when it is missing. */
function linesOf(sb: Sandbox, name: string): string[] {
  return sb.readLog(name).split("\n").filter((l) => l !== "");
}

for (const where of ["top-level", "main"] as const) {
  Deno.test(`stop during a restart (the new main waits in ${where}, not ready yet) stops everything within stopTimeout, and no main starts after it`, async () => {
    await using sb = new Sandbox();
    const o = {
      options: { restart: "on-failure", restartDelay: 50, readiness: "notify", stopTimeout: 3000 },
      behavior: "later-waits",
      env: { FIXTURE_LATER_WAIT: where },
    };
    await sb.start(o);
    const first = Number(linesOf(sb, "runs")[0]);
    assert.ok(isAlive(first));
    Deno.kill(first, "SIGKILL");
    const second = await waitFor("the restarted main to wait", () => {
      const pid = Number(sb.readLog("waiting"));
      return pid > 0 && isAlive(pid) ? pid : null;
    });
    assert.deepEqual(linesOf(sb, "runs"), [String(first), String(second)]);
    assert.equal(keeperFile(sb)?.restarts, 1);
    assert.doesNotMatch(sb.readLog(), new RegExp(`ready \\(pid ${second}\\)`), "not ready yet");
    const t0 = performance.now();
    const stop = await sb.run(["stop", "--json"], o);
    const took = performance.now() - t0;
    assert.equal(stop.code, 0, stop.stderr);
    const result = JSON.parse(stop.stdout);
    assert.equal(result.wasRunning, true);
    assert.equal(result.killed, false, "stop had to kill");
    assert.ok(took < 3000, `stop took ${Math.round(took)} ms, more than stopTimeout`);
    assert.equal(isAlive(second), false);
    assert.deepEqual(processesWith(sb.marker, true), [], "keeper and copier gone too");
    assert.equal(sb.exists("app.pid"), false);
    // A run still waiting somewhere would go on now: for a while, none does.
    Deno.writeTextFileSync(sb.path("go"), "");
    const until = performance.now() + 1000;
    while (performance.now() < until) {
      assert.deepEqual(processesWith(sb.marker, true), [], "a process came back after stop");
      assert.equal(sb.exists("app.pid"), false, "a pidfile came back after stop");
      assert.equal(linesOf(sb, "runs").length, 2, "main ran again after stop");
      await new Promise((r) => setTimeout(r, 20));
    }
    const log = sb.readLog();
    assert.match(log, /fx ended \(killed by SIGKILL\); restart 1 in 50 ms/);
    assert.doesNotMatch(log, /restart 2/);
  });
}

Deno.test('logFormat "json": the keeper\'s crash, restart and give-up lines are JSON Lines like every other', async () => {
  await using sb = new Sandbox();
  // A name JSON must escape: a quote, a backslash, a tab.
  const name = 'f"x\\\ty';
  const o = {
    options: { name, logFormat: "json", restart: "on-failure", restartDelay: 20, maxRestarts: 2 },
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "100" },
  };
  const start = await sb.run(["start"], o);
  assert.equal(start.code, 0, start.stderr);
  await waitFor("the keeper to give up", () => keeperFile(sb)?.gaveUp ? true : null, 15_000);
  await waitFor("nothing left", () => processesWith(sb.marker, true).length === 0);
  const lines = sb.readLog().split("\n");
  assert.equal(lines.pop(), "", "the log ends with a newline");
  const records = lines.map((line, i) => {
    let record;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${i + 1} of the log is not JSON (${err}): ${line}`);
    }
    assert.match(record["@timestamp"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, line);
    assert.ok(!Number.isNaN(Date.parse(record["@timestamp"])), line);
    for (const key of ["level", "message", "logger"]) {
      assert.equal(typeof record[key], "string", line);
    }
    return record as { level: string; message: string; logger: string };
  });
  const keeper = records.filter((r) =>
    r.logger === "daemonize" && / ended \(|giving up/.test(r.message)
  );
  assert.deepEqual(keeper.map((r) => [r.level, r.message]), [
    ["ERROR", `${name} ended (exit code 1); restart 1 in 20 ms`],
    ["ERROR", `${name} ended (exit code 1); restart 2 in 40 ms`],
    ["FATAL", "giving up after 2 restarts: 3 consecutive failures, the last exit code 1"],
  ]);
  const crashes = records.filter((r) => r.message.includes("Error: crash after 100 ms"));
  assert.equal(crashes.length, 3, "each run's crash, logged by main's process");
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A controller for the sandbox's fixture, which reads the status as Daemon.status() does. */
function controller(sb: Sandbox): Daemon {
  return new Daemon({
    module: new URL("./fixtures/app.ts", import.meta.url),
    pidFile: sb.pidFile,
    logFile: sb.logFile,
    env: sb.envMarker(),
  });
}

Deno.test("status of a restarted daemon, the line and Daemon.status(): its restarts, its main and how main last ended", async () => {
  await using sb = new Sandbox();
  const o = keep({ restartDelay: 50 });
  const keeper = await sb.start(o);
  const first = await mainPid(sb);
  const killedAt = Date.now();
  Deno.kill(first, "SIGKILL");
  await afterRestarts(sb, 1);
  const second = await mainPid(sb, first);
  const at = keeperFile(sb)?.lastExit?.at;
  assert.ok(at !== undefined && killedAt <= at.getTime() && at.getTime() <= Date.now(), `${at}`);
  const line = await sb.run(["status"], o);
  assert.equal(line.code, 0, line.stderr);
  assert.match(
    line.stdout,
    new RegExp(
      `^fx is running \\(pid ${keeper}, up \\d+s, main ${second}, 1 restart, last ended ${
        escape(at.toISOString())
      }: killed by SIGKILL, log ${escape(sb.logFile)}\\)\n$`,
    ),
  );
  const status = await controller(sb).status();
  assert.deepEqual(
    {
      running: status.running,
      stale: status.stale,
      pid: status.pid,
      mainPid: status.mainPid,
      restarts: status.restarts,
      gaveUp: status.gaveUp,
      lastExit: status.lastExit,
    },
    {
      running: true,
      stale: false,
      pid: keeper,
      mainPid: second,
      restarts: 1,
      gaveUp: false,
      lastExit: { at, reason: "killed by SIGKILL" },
    },
  );
  assert.equal((await sb.run(["stop"], o)).code, 0);
});

Deno.test("status of a daemon that gave up, the line and Daemon.status(): gave up, its restarts and the last exit", async () => {
  await using sb = new Sandbox();
  const o = {
    ...keep({ restartDelay: 20, maxRestarts: 1 }),
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "100" },
  };
  const keeper = await sb.start(o);
  const startedAt = Date.now();
  await waitFor("the keeper to give up", () => keeperFile(sb)?.gaveUp ? true : null, 15_000);
  await waitFor("nothing left", () => processesWith(sb.marker, true).length === 0);
  const at = keeperFile(sb)?.lastExit?.at;
  assert.ok(at !== undefined && startedAt <= at.getTime() && at.getTime() <= Date.now(), `${at}`);
  const line = await sb.run(["status"], o);
  assert.equal(line.code, 1, "dead, its pidfile left");
  assert.equal(
    line.stdout,
    `fx is not running, but its pidfile ${sb.pidFile} remains (pid ${keeper}, gave up after 1 restart, last ended ${at.toISOString()}: exit code 1)\n`,
  );
  const status = await controller(sb).status();
  assert.deepEqual(
    {
      running: status.running,
      stale: status.stale,
      pid: status.pid,
      mainPid: status.mainPid,
      restarts: status.restarts,
      gaveUp: status.gaveUp,
      lastExit: status.lastExit,
    },
    {
      running: false,
      stale: true,
      pid: keeper,
      mainPid: null,
      restarts: 1,
      gaveUp: true,
      lastExit: { at, reason: "exit code 1" },
    },
  );
});

Deno.test("the delay doubles after each consecutive failure: 50, 100, 200 ms, in the log and in the time between runs", async () => {
  await using sb = new Sandbox();
  const o = {
    ...keep({ restartDelay: 50, maxRestarts: 3 }),
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "100" },
  };
  await sb.start(o);
  await waitFor("the keeper to give up", () => keeperFile(sb)?.gaveUp ? true : null, 15_000);
  const at = (line: string) => Date.parse(line.replace(/^(\S+) (\S+) (\S+) .*$/, "$1T$2$3"));
  const lines = sb.readLog().split("\n");
  const restarts = lines.filter((l) => / ended \(exit code 1\); restart \d+ in \d+ ms$/.test(l));
  const runs = lines.filter((l) => /\] fx: main up \(pid \d+\)$/.test(l));
  assert.deepEqual(
    restarts.map((l) => /restart (\d+) in (\d+) ms$/.exec(l)!.slice(1).map(Number)),
    [
      [1, 50],
      [2, 100],
      [3, 200],
    ],
  );
  assert.equal(runs.length, 4, "the first run and 3 restarts");
  for (const [i, delay] of [50, 100, 200].entries()) {
    const waited = at(runs[i + 1]) - at(restarts[i]);
    assert.ok(
      waited >= delay,
      `restart ${i + 1} came ${waited} ms after its line, before ${delay} ms`,
    );
  }
  assert.match(lines.at(-2)!, /giving up after 3 restarts: 4 consecutive failures/);
});
