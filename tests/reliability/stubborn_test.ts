// Stubborn and broken daemons. Each case first brings the daemon into the
// state it names and checks that it is there; then stop acts, and must
// return within stopTimeout + 1 s, SIGKILL only when it had to, leave no
// pidfile, and the log must say what happened, in order.

import assert from "node:assert/strict";
import { isAlive, processesWith, procState, Sandbox, statOf, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const STOP_TIMEOUT = 500;

interface Case {
  /** What the daemon does, in the test's name. */
  state: string;
  behavior: string;
  /** True once the daemon is in its state: checked before stop acts. */
  inState(sb: Sandbox, pid: number): boolean;
  /** Whether stop must have escalated to SIGKILL. */
  killed: boolean;
  /** Log records (their messages) that must follow one another after stop; the last one is the log's last record. */
  logged: RegExp[];
  /** A record that must not be in the log. */
  never?: RegExp;
}

/** The log's records (a fatal one's stack lines folded into it), without timestamps and levels. */
function records(log: string): string[] {
  const out: string[] = [];
  for (const line of log.split("\n")) {
    const m = /^\d{4}-\d\d-\d\d \S+ \S+ \[\w+\] (.*)$/.exec(line);
    if (m !== null) out.push(m[1]);
    else if (line !== "" && out.length > 0) out[out.length - 1] += `\n${line}`;
  }
  return out;
}

const has = (sb: Sandbox, text: string) => sb.readLog().includes(text);

const cases: Case[] = [
  {
    state: "ignores SIGTERM",
    behavior: "ignore-term",
    inState: (sb, pid) => has(sb, "up; ignoring stop requests") && isAlive(pid),
    killed: true,
    logged: [/^daemonize: started fx/, /^daemonize: stopping: SIGTERM$/],
  },
  {
    state: "has its event loop blocked",
    behavior: "busy",
    // The marker is written right before the endless loop, and a spinning
    // main thread is running (R), not sleeping.
    inState: (sb, pid) => sb.exists("blocking") && procState(pid) === "R",
    killed: true,
    logged: [/^fx: up; about to block the event loop$/],
    // SIGTERM's listener needs the event loop, which never turns again.
    never: /stopping: SIGTERM/,
  },
  {
    state: "rejects during its shutdown",
    behavior: "reject-on-stop",
    inState: (sb, pid) => has(sb, "up; will reject when stopped") && isAlive(pid),
    killed: false,
    logged: [
      /^daemonize: stopping: SIGTERM$/,
      /^fx: rejecting during shutdown$/,
      /^daemonize: exiting: main failed \(exit code 1\): Error: boom-on-stop\n\s+at /,
    ],
  },
  {
    state: "calls Deno.exit(3) during its shutdown",
    behavior: "exit-3-on-stop",
    inState: (sb, pid) => has(sb, "up; will exit with 3 when stopped") && isAlive(pid),
    killed: false,
    logged: [
      /^daemonize: stopping: SIGTERM$/,
      /^fx: exiting with 3 during shutdown$/,
      /^daemonize: exiting: the program ended the process \(exit code 3\)$/,
    ],
  },
  {
    state: "leaves a rejection unhandled during its shutdown",
    behavior: "unhandled-on-stop",
    inState: (sb, pid) =>
      has(sb, "up; will leave a rejection unhandled when stopped") && isAlive(pid),
    killed: false,
    logged: [
      /^daemonize: stopping: SIGTERM$/,
      /^fx: leaving a rejection unhandled during shutdown$/,
      /^daemonize: exiting: unhandled promise rejection \(exit code 1\): Error: nobody handles this either/,
    ],
  },
  {
    state: "takes 300 ms to stop",
    behavior: "slow-stop",
    inState: (sb, pid) => has(sb, "started fx") && isAlive(pid),
    killed: false,
    logged: [
      /^daemonize: stopping: SIGTERM$/,
      /^fx: stopping slowly$/,
      /^daemonize: exiting: stopped by SIGTERM \(exit code 0\)$/,
    ],
  },
];

for (const c of cases) {
  Deno.test(`a daemon that ${c.state}: stop returns within stopTimeout + 1 s and leaves nothing`, async () => {
    await using sb = new Sandbox();
    const o = { behavior: c.behavior, options: { stopTimeout: STOP_TIMEOUT } };
    const pid = await sb.start(o);
    await waitFor(`the daemon to be in its state (${c.state})`, () => c.inState(sb, pid));
    const status = await sb.run(["status", "--json"], o);
    assert.equal(status.code, 0, "running when stop acts");
    assert.equal(JSON.parse(status.stdout).pid, pid);
    assert.doesNotMatch(sb.readLog(), /exiting:/, "not ending by itself before stop acts");

    const t0 = performance.now();
    const stop = await sb.run(["stop", "--json"], o);
    const took = performance.now() - t0;
    assert.equal(stop.code, 0, stop.stderr);
    const result = JSON.parse(stop.stdout);
    assert.equal(result.stoppedPid, pid);
    assert.equal(result.killed, c.killed, c.killed ? "needed SIGKILL" : "ended without SIGKILL");
    assert.ok(took < STOP_TIMEOUT + 1000, `stop took ${took} ms`);
    if (c.killed) assert.ok(took >= STOP_TIMEOUT, `SIGKILL only after stopTimeout (${took} ms)`);
    assert.equal(isAlive(pid), false);
    assert.equal(sb.exists("app.pid"), false);
    assert.equal((await sb.run(["status"], o)).code, 3);

    // The log is complete when stop returns: no waiting here.
    const log = records(sb.readLog());
    let at = -1;
    for (const expected of c.logged) {
      const next = log.findIndex((r, i) => i > at && expected.test(r));
      assert.ok(next > at, `${expected} after record ${at} in:\n${log.join("\n")}`);
      at = next;
    }
    if (!c.killed) assert.equal(at, log.length - 1, "the reason is the last record");
    if (c.never) assert.ok(!log.some((r) => c.never!.test(r)), `no ${c.never}`);
    figure(`stubborn.${c.behavior}.stop_ms`, Math.round(took));
  });
}

// The daemons that end by themselves, checked dead before stop runs.
const selfEnding: [string, RegExp][] = [
  ["reject-later", /exiting: main failed \(exit code 1\): Error: boom-later/],
  ["exit-3", /exiting: the program ended the process \(exit code 3\)/],
  ["unhandled", /exiting: unhandled promise rejection \(exit code 1\)/],
];

for (const [behavior, reason] of selfEnding) {
  Deno.test(`a "${behavior}" daemon that already ended: stop says "not running", exit 0; status 3`, async () => {
    await using sb = new Sandbox();
    const o = { behavior };
    const pid = await sb.start(o);
    await waitFor("the daemon to end by itself", () => reason.test(sb.readLog()));
    await waitFor("its process to be gone", () => !isAlive(pid));
    assert.equal(sb.exists("app.pid"), false, "it removed its pidfile");
    const stop = await sb.run(["stop"], o);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout.trim(), "not running");
    assert.equal((await sb.run(["status"], o)).code, 3);
  });
}

/** Pids of live processes that have `path` open. */
function openers(path: string): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    const pid = Number(entry.name);
    if (!Number.isInteger(pid)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
        if (Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`) === path) found.push(pid);
      }
    } catch { /* gone, or not ours to read */ }
  }
  return found.filter(isAlive);
}

for (const keeper of [false, true]) {
  for (const stubborn of [false, true]) {
    const what = stubborn ? "a child that ignores SIGTERM" : "a `sleep 1000` it spawned";
    Deno.test(`stop ends the daemon's process group${keeper ? " (keeper)" : ""}: ${what} is gone when stop returns`, async () => {
      await using sb = new Sandbox();
      const o = {
        behavior: "children",
        options: { stopTimeout: STOP_TIMEOUT, ...(keeper ? { restart: "on-failure" } : {}) },
        env: stubborn ? { FIXTURE_STUBBORN_CHILD: "1" } : {} as Record<string, string>,
      };
      const pid = await sb.start(o);
      const children: number[] = await waitFor("the children", () => {
        try {
          return JSON.parse(Deno.readTextFileSync(sb.path("children.json")));
        } catch {
          return null;
        }
      });
      sb.extraPids.push(...children);
      const [daemon] = processesWith(sb.marker);
      for (const child of children) {
        assert.ok(isAlive(child));
        assert.equal(statOf(child)[2], statOf(daemon)[2], "the child is in the daemon's group");
      }
      const t0 = performance.now();
      const stop = await sb.run(["stop", "--json"], o);
      const took = performance.now() - t0;
      assert.equal(stop.code, 0, stop.stderr);
      const result = JSON.parse(stop.stdout);
      assert.equal(result.stoppedPid, pid);
      assert.equal(result.killed, false, "the daemon itself ended on SIGTERM");
      for (const child of children) assert.equal(isAlive(child), false, `child ${child} is gone`);
      assert.deepEqual(openers(sb.logFile), [], "nothing holds the log file open");
      assert.deepEqual(processesWith(sb.marker, true), []);
      if (stubborn) {
        assert.ok(took >= STOP_TIMEOUT, `SIGKILL at stopTimeout, not before (${took} ms)`);
        assert.match(
          sb.readLog(),
          new RegExp(
            `SIGKILL to what was left of the daemon's process group after stopTimeout \\(pids [^)]*\\b${
              children[1]
            }\\b`,
          ),
        );
      }
      assert.ok(took < STOP_TIMEOUT + 1000, `stop took ${took} ms`);
      figure(
        `children${keeper ? ".keeper" : ""}${stubborn ? ".stubborn" : ""}.stop_ms`,
        Math.round(took),
      );
    });
  }
}
