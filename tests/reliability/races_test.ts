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
  },
);
