// Others at work on the pidfile while the daemon runs: removed (rm), renamed
// away (mv), atomically replaced by a copy (as config management and tmp
// cleaners do), each with and without a `start` racing it, with and without
// a keeper (`restart`). At most one daemon runs apart from a repair window
// of at most 2 s, and the survivor is the one status and stop reach.

import assert from "node:assert/strict";
import { isAlive, processesWith, Sandbox, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const WINDOW_MS = 2000;

type Tamper = "rm" | "mv" | "copy";

function tamper(sb: Sandbox, how: Tamper): void {
  if (how === "rm") Deno.removeSync(sb.pidFile);
  else if (how === "mv") Deno.renameSync(sb.pidFile, sb.path("moved.pid"));
  else {
    // Written elsewhere, then renamed over the pidfile.
    Deno.mkdirSync(sb.path("staging"), { recursive: true });
    Deno.copyFileSync(sb.pidFile, sb.path("staging/app.pid"));
    Deno.renameSync(sb.path("staging/app.pid"), sb.pidFile);
  }
}

/** Live daemons: pids whose marker file exists (written once main runs). */
function liveDaemons(sb: Sandbox): number[] {
  try {
    return [...Deno.readDirSync(sb.path("daemons"))].map((e) => Number(e.name)).filter(isAlive);
  } catch {
    return [];
  }
}

/**
 * Whether the file now at the pidfile's path is exclusively flock'ed by
 * someone, read from /proc/locks (taking no lock of our own, which the
 * daemon could mistake for another daemon's).
 */
function pathLocked(path: string): boolean {
  let ino: number | null;
  try {
    ino = Deno.statSync(path).ino;
  } catch {
    return false;
  }
  return Deno.readTextFileSync("/proc/locks").split("\n").some((line) => {
    const f = line.trim().split(/\s+/);
    // 1: FLOCK  ADVISORY  WRITE 1234 00:2a:56789 0 EOF
    return f[1] === "FLOCK" && f[3] === "WRITE" && Number(f[5]?.split(":")[2]) === ino;
  });
}

/**
 * Milliseconds from `t0` until the path names a locked file again, looked at
 * every 5 ms (a measure, so no growing pause); fails after the window.
 */
async function repaired(sb: Sandbox, t0: number): Promise<number> {
  while (!pathLocked(sb.pidFile)) {
    if (performance.now() - t0 > WINDOW_MS) {
      throw new Error(`the pidfile was not restored within ${WINDOW_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - t0;
}

interface Sampler {
  /** Total time with more than one daemon alive, and the longest such spell. */
  stop(): Promise<{ overlapMs: number; longestMs: number; max: number }>;
}

function sample(sb: Sandbox): Sampler {
  let running = true;
  let overlapMs = 0;
  let longestMs = 0;
  let max = 0;
  const done = (async () => {
    let since: number | null = null;
    let last = performance.now();
    while (running) {
      const n = liveDaemons(sb).length;
      const now = performance.now();
      max = Math.max(max, n);
      if (n > 1) {
        since ??= last;
        overlapMs += now - last;
        longestMs = Math.max(longestMs, now - since);
      } else since = null;
      last = now;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { overlapMs, longestMs, max };
    },
  };
}

/** The status's pid, and that stop reaches it: nothing of the sandbox is left after. */
async function assertReachable(sb: Sandbox, o: object, survivor: number): Promise<void> {
  const status = await sb.run(["status", "--json"], o);
  assert.equal(status.code, 0, `status: ${status.stdout}${status.stderr}`);
  const { pid, mainPid } = JSON.parse(status.stdout);
  assert.ok(
    pid === survivor || mainPid === survivor,
    `status names the survivor ${survivor}: ${status.stdout}`,
  );
  const stop = await sb.run(["stop", "--json"], o);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(JSON.parse(stop.stdout).stoppedPid, pid);
  await waitFor("nothing of the sandbox left", () => processesWith(sb.marker, true).length === 0);
  assert.deepEqual(liveDaemons(sb), []);
  assert.equal((await sb.run(["status"], o)).code, 3);
}

for (const keeper of [false, true]) {
  const o = {
    behavior: "marker",
    options: keeper ? { restart: "on-failure" } : {},
  };
  const mode = keeper ? " (keeper)" : "";
  for (const how of ["rm", "mv", "copy"] as const) {
    Deno.test(`pidfile ${how}${mode}: the daemon restores it within ${WINDOW_MS} ms; status and stop reach it`, async () => {
      await using sb = new Sandbox();
      const pid = await sb.start(o);
      const [first] = await waitFor("the daemon's marker", () => {
        const live = liveDaemons(sb);
        return live.length === 1 ? live : null;
      });
      const t0 = performance.now();
      tamper(sb, how);
      const repairMs = await repaired(sb, t0);
      assert.deepEqual(liveDaemons(sb), [first], "the same daemon, alone");
      assert.match(
        sb.readLog(),
        new RegExp(
          `pidFile ".*app.pid" was ${
            how === "rm" || how === "mv" ? "removed" : "replaced"
          }; restored it`,
        ),
      );
      await assertReachable(sb, o, first);
      assert.equal(isAlive(pid), false);
      figure(`tamper.${how}${keeper ? ".keeper" : ""}.repair_ms`, Math.round(repairMs));
    });

    Deno.test(`pidfile ${how}${mode} with a start racing it: one daemon again within ${WINDOW_MS} ms, the one status and stop reach`, async () => {
      await using sb = new Sandbox();
      await sb.start(o);
      const [first] = await waitFor("the daemon's marker", () => {
        const live = liveDaemons(sb);
        return live.length === 1 ? live : null;
      });
      const sampler = sample(sb);
      tamper(sb, how);
      const start = await sb.run(["start"], o);
      assert.equal(start.code, 0, start.stderr);
      const survivor = await waitFor(
        "one daemon left",
        () => {
          const live = liveDaemons(sb);
          return live.length === 1 && pathLocked(sb.pidFile) ? live[0] : null;
        },
        WINDOW_MS + 1000,
      );
      const { overlapMs, longestMs, max } = await sampler.stop();
      assert.ok(longestMs <= WINDOW_MS, `two daemons for ${Math.round(longestMs)} ms`);
      assert.match(
        sb.readLog(),
        survivor === first ? /restored it/ : /now belongs to another daemon|already running/,
      );
      await assertReachable(sb, o, survivor);
      figure(
        `tamper.${how}${keeper ? ".keeper" : ""}.race`,
        {
          second: /^started/.test(start.stdout),
          survivor: survivor === first ? "first" : "second",
          max,
          overlapMs: Math.round(overlapMs),
          longestMs: Math.round(longestMs),
        },
      );
    });
  }
}

for (const hold of ["shared", "exclusive"] as const) {
  Deno.test(`pidfile replaced by a copy that another program holds ${hold === "shared" ? "a shared" : "an exclusive"} lock on: the daemon waits, then restores it`, async () => {
    await using sb = new Sandbox();
    const o = { behavior: "marker" };
    const pid = await sb.start(o);
    tamper(sb, "copy");
    // A reader (`flock -s`, a monitoring probe) or, for a moment, a stop
    // taking the copy for a stale pidfile: neither is another daemon.
    const other = Deno.openSync(sb.pidFile, { read: true });
    try {
      assert.ok(other.tryLockSync(hold === "exclusive"));
      await waitFor(
        "the daemon to look at the path",
        () => /another program holds a lock|now belongs to another daemon/.test(sb.readLog()),
        WINDOW_MS,
      );
      assert.doesNotMatch(sb.readLog(), /now belongs to another daemon/);
      assert.ok(isAlive(pid), "the daemon still runs");
    } finally {
      other.close();
    }
    await waitFor("the pidfile restored, locked", () => pathLocked(sb.pidFile), WINDOW_MS);
    assert.match(sb.readLog(), /was replaced; restored it/);
    await assertReachable(sb, o, pid);
  });
}
