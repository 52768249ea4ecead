// SIGINT / SIGTERM to the starting process at random moments leave either a
// running, ready daemon or nothing.

import assert from "node:assert/strict";
import { isAlive, processesWith, Sandbox, waitFor } from "../_helpers.ts";
import { figure, seededTest } from "./_seed.ts";

const TRIALS = 20;

seededTest(
  `SIGINT/SIGTERM to start at random moments (${TRIALS} trials): a ready daemon or nothing`,
  async (random) => {
    await using sb = new Sandbox();
    let running = 0;
    let nothing = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const signal = trial % 2 === 0 ? "SIGINT" : "SIGTERM";
      const launcher = sb.command(["start"]).spawn();
      await new Promise((r) => setTimeout(r, Math.floor(random() * 120)));
      try {
        launcher.kill(signal);
      } catch { /* already done */ }
      await launcher.output();
      // Settle: whatever the launcher left either becomes a ready daemon or goes away.
      const outcome = await waitFor(`trial ${trial} to settle`, async () => {
        const status = await sb.run(["status", "--json"]);
        const left = processesWith(sb.marker);
        if (status.code === 0) {
          const { pid } = JSON.parse(status.stdout);
          const ready = sb.readLog().includes(`started fx (pid ${pid})`);
          return ready && left.length === 1 && left[0] === pid ? { pid } : null;
        }
        return left.length === 0 && status.code === 3 ? { pid: null } : null;
      });
      if (outcome.pid === null) {
        nothing++;
        continue;
      }
      running++;
      assert.ok(isAlive(outcome.pid));
      assert.equal((await sb.run(["stop"])).code, 0);
    }
    assert.equal(running + nothing, TRIALS);
    figure("signals.trials", TRIALS);
    figure("signals.outcomes", { running, nothing });
  },
);
