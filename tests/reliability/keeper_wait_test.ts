// The keeper between two runs of main (restart on crash), attacked: the
// pidfile removed during the wait or while main runs, signals sent to the
// keeper during the wait and while the next main starts, a reload during
// the wait. Each failed on the code before its fix.

import assert from "node:assert/strict";
import { isAlive, processesWith, type RunOptions, Sandbox, statOf, waitFor } from "../_helpers.ts";
import { afterRestarts, keeperFile, mainPid } from "../_keeper.ts";

/** Milliseconds since midnight of a text log line's timestamp. */
function clock(line: string): number {
  const [h, m, s] = / (\d\d):(\d\d):(\d\d\.\d{3}) /.exec(line)!.slice(1).map(Number);
  return ((h * 60 + m) * 60 + s) * 1000;
}

async function stopAll(sb: Sandbox, o: RunOptions): Promise<void> {
  const stop = await sb.run(["stop"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.deepEqual(processesWith(sb.marker, true), [], "keeper, copier and main gone");
  assert.equal(sb.exists("app.pid"), false);
}

// exit-3: main exits with 3 200 ms after it started, every time.
const crashing = (delay: number): RunOptions => ({
  behavior: "exit-3",
  options: { restart: "on-failure", restartDelay: delay, maxRestarts: 10 },
});

for (const how of ["removed", "replaced by a copy"]) {
  Deno.test(`a pidfile ${how} during the wait before a restart is the keeper's again, and the daemon restarts and stops`, async () => {
    await using sb = new Sandbox();
    const o = crashing(3000);
    const keeper = await sb.start(o);
    await afterRestarts(sb, 1);
    if (how === "removed") Deno.removeSync(sb.pidFile);
    else {
      Deno.copyFileSync(sb.pidFile, sb.path("copy.pid"));
      Deno.renameSync(sb.path("copy.pid"), sb.pidFile);
    }
    // The keeper looks at the path every 500 ms of its wait.
    const back = await waitFor("the keeper to hold the pidfile again", () => {
      const content = keeperFile(sb);
      const locked = new Deno.Command("flock", { args: ["-n", sb.pidFile, "true"] }).outputSync();
      return content !== null && !locked.success ? content : null;
    }, 2000);
    assert.equal(back.pid, keeper);
    assert.equal(back.restarts, 1);
    const status = await sb.run(["status"], o);
    assert.equal(status.code, 0, `running during the wait: ${status.stdout}${status.stderr}`);
    await waitFor(
      "the restarted main",
      () => sb.readLog().match(/up; exiting with 3/g)?.length === 2,
    );
    assert.doesNotMatch(sb.readLog(), /belongs to another daemon|not restarting|exit code 1/);
    await stopAll(sb, o);
  });
}

Deno.test("a main that restored its removed pidfile is still restarted when it crashes", async () => {
  await using sb = new Sandbox();
  const o = {
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "2500" },
    options: { restart: "on-failure", restartDelay: 100 },
  };
  await sb.start(o);
  const first = await mainPid(sb);
  Deno.removeSync(sb.pidFile);
  await waitFor("main to restore it", () => sb.readLog().includes("was removed; restored it"));
  await afterRestarts(sb, 1);
  const second = await mainPid(sb, first);
  assert.ok(isAlive(second));
  assert.doesNotMatch(sb.readLog(), /not restarting/);
  await stopAll(sb, o);
});

Deno.test("signals to the keeper during the wait before a restart do not cut the wait short", async () => {
  await using sb = new Sandbox();
  const o = crashing(2000);
  const keeper = await sb.start(o);
  await afterRestarts(sb, 1);
  for (const signal of ["SIGHUP", "SIGUSR2", "SIGALRM"] as const) Deno.kill(keeper, signal);
  await waitFor(
    "the restarted main",
    () => sb.readLog().match(/up; exiting with 3/g)?.length === 2,
  );
  const lines = sb.readLog().split("\n");
  const wait = lines.find((l) => l.includes("restart 1 in 2000 ms"))!;
  const next = lines.filter((l) => l.includes("up; exiting with 3"))[1];
  const waited = clock(next) - clock(wait);
  assert.ok(waited >= 1900, `main started again ${waited} ms after the keeper said 2000 ms`);
  await stopAll(sb, o);
});

Deno.test("SIGHUPs to the keeper while a restarted main starts do not kill it", async () => {
  await using sb = new Sandbox();
  const o = { options: { restart: "on-failure", restartDelay: 100, maxRestarts: 3 } };
  const keeper = await sb.start(o);
  const first = await mainPid(sb);
  Deno.kill(first, "SIGKILL");
  // reload (or logrotate's postrotate) repeated through the restart.
  const deadline = performance.now() + 10_000;
  let second: number | null = null;
  while (second === null && performance.now() < deadline) {
    Deno.kill(keeper, "SIGHUP");
    await new Promise((r) => setTimeout(r, 5));
    const pid = keeperFile(sb)?.main ?? null;
    if (pid !== null && pid !== first && sb.readLog().includes(`started fx (pid ${pid})`)) {
      second = pid;
    }
  }
  assert.doesNotMatch(sb.readLog(), /killed by SIGHUP/);
  assert.notEqual(second, null, `no main came up again:\n${sb.readLog()}`);
  assert.equal(keeperFile(sb)?.restarts, 1);
  await stopAll(sb, o);
});

Deno.test("reload during the wait before a restart says so at once", async () => {
  await using sb = new Sandbox();
  const o = crashing(5000);
  await sb.start(o);
  await afterRestarts(sb, 1);
  const t0 = performance.now();
  const reload = await sb.run(["reload"], o);
  const took = performance.now() - t0;
  assert.equal(reload.code, 1);
  assert.match(reload.stderr, /main is not running; it is restarted after a crash/);
  assert.ok(took < 2000, `reload waited ${Math.round(took)} ms for an answer nobody could give`);
  await stopAll(sb, o);
});

Deno.test("the keeper's lines in a JSON log are JSON, whatever the daemon's name holds", async () => {
  await using sb = new Sandbox();
  const name = 'odd "name"\twith\\ a tab\x01';
  const o = {
    behavior: "exit-3",
    options: { name, logFormat: "json", restart: "on-failure", restartDelay: 20, maxRestarts: 1 },
  };
  const start = await sb.run(["start"], o);
  assert.equal(start.code, 0, start.stderr);
  await waitFor("the keeper to give up", () => keeperFile(sb)?.gaveUp ? true : null, 10_000);
  await waitFor("nothing left", () => processesWith(sb.marker, true).length === 0);
  const records = sb.readLog().split("\n").filter((l) => l !== "").map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`not JSON: ${JSON.stringify(line)}`);
    }
  });
  const keeper = records.filter((r) => r.logger === "daemonize").map((r) => r.message);
  assert.ok(
    keeper.includes(`${name} ended (exit code 3); restart 1 in 20 ms`),
    keeper.join("\n"),
  );
});

Deno.test("a start stopped before main is ready says why, not that it ended without a word", async () => {
  await using sb = new Sandbox();
  const o = {
    env: { FIXTURE_FAULT: "daemon-before-lock" }, // main's process holds itself there
    options: { restart: "on-failure", readyTimeout: 10_000, stopTimeout: 5000 },
  };
  const start = sb.command(["start"], o).spawn();
  sb.extraPids.push(start.pid);
  const output = start.output();
  const keeper = await waitFor("the keeper's pid in the pidfile", () => keeperFile(sb)?.pid);
  const held = await waitFor(
    "main's process, held",
    () => processesWith(sb.marker).find((pid) => pid !== start.pid && statOf(pid)[0] === "T"),
  );
  // What stop sends first (stop also sends SIGCONT, which would let main
  // answer): main is held and cannot.
  Deno.kill(keeper, "SIGTERM");
  await waitFor("the keeper to be stopping", () => keeperFile(sb)?.stopping);
  // It dies before it could answer the stop (the OOM killer, say).
  Deno.kill(held, "SIGKILL");
  const out = await output;
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1);
  assert.doesNotMatch(stderr, /without a word/);
  assert.match(stderr, /was killed by SIGKILL before it was ready/);
  await waitFor("the keeper gone", () => !isAlive(keeper));
  assert.equal(isAlive(keeper), false);
  assert.deepEqual(processesWith(sb.marker, true), []);
});

Deno.test("kill -9 of the keeper: main holds the pidfile itself and the log says restarts are over", async () => {
  await using sb = new Sandbox();
  const o = { options: { restart: "on-failure" } };
  const keeper = await sb.start(o);
  const main = await mainPid(sb);
  Deno.kill(keeper, "SIGKILL");
  await waitFor(
    "main's line",
    () =>
      sb.readLog().includes(`its keeper (pid ${keeper}) is gone, so main is no longer restarted`),
  );
  assert.doesNotMatch(sb.readLog(), /was replaced; restored it/, "nobody replaced it");
  const status = await sb.run(["status", "--json"], o);
  assert.equal(status.code, 0);
  assert.equal(JSON.parse(status.stdout).pid, main);
  await stopAll(sb, o);
});

Deno.test("a restartDelay and a stopTimeout with a fraction of a millisecond work in the keeper", async () => {
  await using sb = new Sandbox();
  const o = {
    behavior: "spawn-then-crash", // leaves a child for the keeper to end (stopTimeout)
    options: { restart: "on-failure", restartDelay: 20.5, maxRestarts: 1, stopTimeout: 300.5 },
  };
  await sb.start(o);
  await waitFor("the keeper to give up", () => keeperFile(sb)?.gaveUp ? true : null, 10_000);
  const log = sb.readLog();
  assert.doesNotMatch(log, /Illegal number|arithmetic/);
  assert.match(log, /restart 1 in 2[01] ms/);
  assert.equal(log.match(/ending what fx left behind/g)?.length, 2);
});

Deno.test("kill -9 of the keeper's session leader: main is still restarted, and the keeper never ends itself", async () => {
  await using sb = new Sandbox();
  const o = { options: { restart: "on-failure", restartDelay: 100 } };
  const keeper = await sb.start(o);
  const first = await mainPid(sb);
  const leader = Number(statOf(keeper)[2]);
  assert.notEqual(leader, keeper);
  Deno.kill(leader, "SIGKILL");
  await waitFor("the leader gone", () => !isAlive(leader));
  Deno.kill(first, "SIGKILL");
  await afterRestarts(sb, 1);
  const second = await mainPid(sb, first);
  assert.ok(isAlive(keeper), "the keeper is still there");
  assert.doesNotMatch(sb.readLog(), new RegExp(`left behind: pids .*\\b${keeper}\\b`));
  assert.ok(isAlive(second));
  await stopAll(sb, o);
});

Deno.test("kill -9 of the keeper's copier: main is still restarted after a crash", async () => {
  await using sb = new Sandbox();
  const o = { options: { restart: "on-failure", restartDelay: 100 } };
  const keeper = await sb.start(o);
  const first = await mainPid(sb);
  const leader = Number(statOf(keeper)[2]);
  const copier = processesWith(sb.marker, true).find((pid) =>
    pid !== keeper && pid !== leader && Number(statOf(pid)[1]) === leader
  );
  assert.ok(copier !== undefined, "the copier");
  Deno.kill(copier, "SIGKILL");
  await waitFor("the copier gone", () => !isAlive(copier));
  Deno.kill(first, "SIGKILL");
  await afterRestarts(sb, 1);
  const second = await mainPid(sb, first);
  assert.ok(isAlive(keeper), "the keeper lives");
  assert.ok(isAlive(second));
  await stopAll(sb, o);
});

Deno.test("the pidfile's directory removed during the wait: the keeper goes, and says why", async () => {
  await using sb = new Sandbox();
  Deno.mkdirSync(sb.path("run"));
  const pidFile = sb.path("run/app.pid");
  const o = { ...crashing(2000), options: { ...crashing(2000).options, pidFile } };
  await sb.start(o);
  await waitFor("the wait", () => sb.readLog().includes("restart 1 in 2000 ms"));
  Deno.removeSync(sb.path("run"), { recursive: true });
  await waitFor("the keeper gone", () => processesWith(sb.marker, true).length === 0);
  assert.match(sb.readLog(), /app\.pid" cannot be made again.*; not restarting fx/);
  assert.doesNotMatch(sb.readLog(), /belongs to another daemon/, "no other daemon is there");
});

Deno.test("stop while the keeper ends what a crashed main left: main is not blamed as killed by stop", async () => {
  await using sb = new Sandbox();
  const o = {
    behavior: "children",
    env: { FIXTURE_STUBBORN_CHILD: "1" }, // a child that ignores SIGTERM
    options: { restart: "on-failure", restartDelay: 100, stopTimeout: 3000 },
  };
  await sb.start(o);
  const first = await mainPid(sb);
  await waitFor("the children", () => sb.exists("children.json"));
  Deno.kill(first, "SIGKILL");
  await waitFor("the keeper's sweep", () => sb.readLog().includes("ending what fx left behind"));
  const stop = await sb.run(["stop", "--json"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(JSON.parse(stop.stdout).killed, false, "the keeper was SIGKILLed");
  assert.doesNotMatch(sb.readLog(), /killed by stop with SIGKILL/);
  assert.deepEqual(processesWith(sb.marker, true), []);
  for (const pid of JSON.parse(sb.readLog("children.json"))) assert.equal(isAlive(pid), false);
});
