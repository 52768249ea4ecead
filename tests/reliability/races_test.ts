// Races: exactly one daemon however many starts, stops and restarts collide.

import assert from "node:assert/strict";
import { isAlive, processesWith, Sandbox, waitFor } from "../_helpers.ts";
import { figure, seededTest } from "./_seed.ts";

const TRIALS = Number(Deno.env.get("RELIABILITY_TRIALS") ?? "50");
const SECONDS = Number(Deno.env.get("RELIABILITY_SECONDS") ?? "30");

/** Live daemons: pids whose marker file exists (written once main runs, under the lock). */
function liveDaemons(sb: Sandbox): number[] {
  try {
    return [...Deno.readDirSync(sb.path("daemons"))].map((e) => Number(e.name)).filter(isAlive);
  } catch {
    return [];
  }
}

seededTest(
  `20 concurrent starts x ${TRIALS} trials: one daemon each time, named by every start`,
  async () => {
    await using sb = new Sandbox();
    const o = { behavior: "marker" };
    let starts = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const outs = await Promise.all(Array.from({ length: 20 }, () => sb.run(["start"], o)));
      starts += outs.length;
      const pids = outs.map((out) => {
        assert.equal(out.code, 0, `trial ${trial}: ${out.stderr}`);
        return Number(/\(pid (\d+)\)/.exec(out.stdout)?.[1]);
      });
      assert.equal(
        new Set(pids).size,
        1,
        `trial ${trial}: one pid named, got ${[...new Set(pids)]}`,
      );
      assert.equal(outs.filter((out) => out.stdout.startsWith("started")).length, 1);
      assert.deepEqual(liveDaemons(sb), [pids[0]], `trial ${trial}: one daemon`);
      assert.deepEqual(
        processesWith(sb.marker),
        [pids[0]],
        `trial ${trial}: no other process left`,
      );
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${pids[0]}\n`);
      assert.equal((await sb.run(["stop"], o)).code, 0);
    }
    // The starts that lost the race left nothing in the log: one start and
    // one end per trial.
    const log = sb.readLog();
    assert.equal(log.match(/ exiting: /g)?.length ?? 0, TRIALS, "one exit line per trial");
    assert.doesNotMatch(log, /already running/);
    figure("races.trials", TRIALS);
    figure("races.starts", starts);
    figure("races.instances_per_trial", 1);
  },
);

seededTest(
  `4 callers interleave start/stop/restart/status for ${SECONDS} s: never two daemons`,
  async (random) => {
    await using sb = new Sandbox();
    const o = { behavior: "marker" };
    const deadline = performance.now() + SECONDS * 1000;
    const startedPids = new Set<number>();
    const reported: number[] = [];
    const failures: string[] = [];
    let maxDaemons = 0;
    let samples = 0;
    let ops = 0;
    let stoppedWhileStarting = 0;

    const sampler = (async () => {
      while (performance.now() < deadline) {
        const live = liveDaemons(sb);
        maxDaemons = Math.max(maxDaemons, live.length);
        if (live.length > 1) failures.push(`two daemons at once: ${live}`);
        samples++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const caller = async () => {
      while (performance.now() < deadline) {
        const command = ["start", "stop", "restart", "status"][Math.floor(random() * 4)];
        const out = await sb.run([command], o);
        ops++;
        for (const m of out.stdout.matchAll(/started fx \(pid (\d+)\)/g)) {
          startedPids.add(
            Number(m[1]),
          );
        }
        if (command === "status") {
          if (![0, 1, 3].includes(out.code)) {
            failures.push(
              `status exit ${out.code}: ${out.stderr}`,
            );
          }
          const pid = /running \(pid (\d+)/.exec(out.stdout)?.[1];
          if (out.code === 0 && pid !== undefined) reported.push(Number(pid));
        } else if (
          out.code === 1 && command !== "stop" &&
          /failed to start: stopped by SIG(TERM|INT) before it was ready/.test(out.stderr)
        ) {
          // Its own daemon was ended by another caller's stop before it was
          // ready: exit 1 is the contract for a daemon that ends before ready.
          stoppedWhileStarting++;
        } else if (out.code !== 0) {
          failures.push(`${command} exit ${out.code}: ${out.stderr}`);
        }
      }
    };
    await Promise.all([sampler, caller(), caller(), caller(), caller()]);

    assert.deepEqual(failures, []);
    assert.ok(maxDaemons <= 1);
    for (const pid of reported) {
      assert.ok(
        startedPids.has(pid),
        `status named pid ${pid}, which no start started`,
      );
    }
    await sb.run(["stop"], o);
    assert.equal((await sb.run(["status"], o)).code, 3);
    await waitFor("quiet", () => processesWith(sb.marker).length === 0);
    figure("interleave.seconds", SECONDS);
    figure("interleave.operations", ops);
    figure("interleave.samples", samples);
    figure("interleave.max_daemons", maxDaemons);
    figure("interleave.status_running_reports", reported.length);
    figure("interleave.starts_stopped_before_ready", stoppedWhileStarting);
  },
);

Deno.test("a start that loses to starts which end before they are ready keeps trying within readyTimeout, then starts", async () => {
  await using sb = new Sandbox();
  const o = { behavior: "marker" };
  // Another starter's daemon, again and again: it takes the lock, writes its
  // pid (starting), and is gone 100 ms later without being ready, its
  // pidfile removed, as a daemon that a concurrent stop ended is; the next
  // one creates a new pidfile at once. Twelve of them, so the start under
  // test sees the lock released and loses the next race many times over
  // (-n: a hold that finds the lock taken is skipped, never waited for).
  const holds = 12;
  const hostile = new Deno.Command("/bin/sh", {
    args: [
      "-c",
      `i=0; while [ $i -lt ${holds} ]; do i=$((i+1)); flock -n -x app.pid sh -c 'printf %s $$ > app.pid; sleep 0.1; rm app.pid' && echo $i >> holds; done`,
    ],
    cwd: sb.dir,
    env: sb.envMarker(),
  }).spawn();
  sb.extraPids.push(hostile.pid);
  await waitFor("the first hold", () => {
    try {
      return Deno.readTextFileSync(sb.pidFile).length > 0;
    } catch {
      return false;
    }
  });
  const out = await sb.run(["start"], o);
  const held = Deno.readTextFileSync(sb.path("holds")).trim().split("\n").length;
  assert.equal((await hostile.status).code, 0);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^started fx \(pid \d+\)/);
  assert.ok(held >= 6, `start outlasted ${held} holds (more than its three tries)`);
  assert.equal(liveDaemons(sb).length, 1);
  assert.equal((await sb.run(["stop"], o)).code, 0);
});

for (const keeper of [false, true]) {
  Deno.test(`start during a slow stop${keeper ? " (keeper)" : ""}: it waits for that daemon to be gone, then starts one`, async () => {
    await using sb = new Sandbox();
    const o = {
      behavior: "slow-stop",
      env: { FIXTURE_STOP_MS: "800" },
      options: keeper ? { restart: "on-failure" } : {},
    };
    const first = await sb.start(o);
    const firstMain = processesWith(sb.marker);
    const stopping = sb.command(["stop", "--json"], o).spawn();
    await waitFor("the daemon to be stopping", () => sb.readLog().includes("stopping slowly"));
    const start = await sb.run(["start", "--json"], o);
    const stop = await stopping.output();
    assert.equal(stop.code, 0, new TextDecoder().decode(stop.stderr));
    const stopped = JSON.parse(new TextDecoder().decode(stop.stdout));
    assert.equal(stopped.stoppedPid, first);
    assert.equal(stopped.killed, false);
    assert.equal(start.code, 0, start.stderr);
    const started = JSON.parse(start.stdout);
    assert.equal(
      started.alreadyRunning,
      false,
      `a new daemon, not "already running": ${start.stdout}`,
    );
    assert.notEqual(started.pid, first);
    // After both commands: exactly one daemon, the new one.
    assert.equal(isAlive(first), false);
    const now = processesWith(sb.marker);
    assert.equal(now.length, 1, `one daemon: ${now}`);
    assert.ok(!firstMain.includes(now[0]));
    const status = JSON.parse((await sb.run(["status", "--json"], o)).stdout);
    assert.equal(status.pid, started.pid);
    assert.equal((await sb.run(["stop"], o)).code, 0);
  });
}

for (const keeper of [false, true]) {
  seededTest(
    `a status storm during start/stop cycles${
      keeper ? " (keeper)" : ""
    }: never 1, and a running daemon's pid is always named`,
    async () => {
      await using sb = new Sandbox();
      const o = {
        behavior: "slow-stop",
        env: { FIXTURE_STOP_MS: "150" },
        options: keeper ? { restart: "on-failure" } : {},
      };
      const CALLERS = 6;
      const TOTAL = keeper ? 150 : 300;
      const codes: Record<number, number> = {};
      const failures: string[] = [];
      let statuses = 0;
      let stopping = 0;
      let cycles = 0;
      let done = false;
      const caller = async () => {
        while (!done) {
          const out = await sb.run(["status", "--json"], o);
          statuses++;
          codes[out.code] = (codes[out.code] ?? 0) + 1;
          const status = out.stdout === "" ? null : JSON.parse(out.stdout);
          if (out.code !== 0 && out.code !== 3) failures.push(`exit ${out.code}: ${out.stdout}`);
          if (out.code === 0 && typeof status?.pid !== "number") {
            failures.push(`running without a pid: ${out.stdout}`);
          }
          if (status?.stopping) stopping++;
        }
      };
      const cycle = async () => {
        const deadline = performance.now() + 60_000;
        while (statuses < TOTAL && performance.now() < deadline) {
          await sb.start(o);
          assert.equal((await sb.run(["stop"], o)).code, 0);
          cycles++;
        }
        done = true;
      };
      await Promise.all([cycle(), ...Array.from({ length: CALLERS }, caller)]);
      assert.ok(statuses >= TOTAL, `${statuses} status calls`);
      assert.deepEqual(failures, []);
      figure(`status_storm${keeper ? ".keeper" : ""}`, { statuses, cycles, codes, stopping });
    },
  );
}
