// Regression tests for faults a review found: each proves the fixed
// behaviour on real processes.

import assert from "node:assert/strict";
import { Daemon } from "../mod.ts";
import { processesWith, procState, Sandbox, waitFor } from "./_helpers.ts";

Deno.test("a launcher narrowed by --deny-* never starts a daemon with more: denoArgs must repeat the denial", async () => {
  await using sb = new Sandbox();
  const denyFlag = `--deny-write=${sb.path("forbidden.txt")}`;
  const refused = await sb.run(["start"], { behavior: "try-write", denoFlags: ["-A", denyFlag] });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /--deny-write flag, which Deno does not report; repeat it in the "denoArgs" option/,
  );
  assert.deepEqual(processesWith(sb.marker), []);

  const o = {
    behavior: "try-write",
    denoFlags: ["-A", denyFlag],
    options: { denoArgs: [denyFlag] },
  };
  assert.equal((await sb.run(["start"], o)).code, 0);
  await waitFor(
    "the attempt",
    () => /denied: "?NotCapable|wrote the forbidden file/.test(sb.readLog()),
  );
  assert.match(sb.readLog(), /denied: "?NotCapable/);
  assert.equal(sb.exists("forbidden.txt"), false);
});

Deno.test("a start that finds a daemon still starting returns only once that daemon is ready", async () => {
  await using sb = new Sandbox();
  const o = { behavior: "notify", options: { readiness: "notify" } };
  const first = sb.command(["start"], o).output();
  await waitFor(
    "the first daemon to hold the pidfile",
    () => sb.exists("app.pid") && sb.readLog("app.pid") !== "",
  );
  const second = await sb.run(["start"], o);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^already running \(pid \d+\)\n$/);
  assert.match(sb.readLog(), /fx: listening/, "ready before the second start returned");
  assert.equal((await first).code, 0);
});

Deno.test("a start that finds a daemon that never becomes ready fails with READY_TIMEOUT, not 'already running'", async () => {
  await using sb = new Sandbox();
  const o = { behavior: "never-ready", options: { readiness: "notify", readyTimeout: 600 } };
  const first = sb.command(["start"], o).output();
  await waitFor("the first daemon to hold the pidfile", () => sb.readLog("app.pid") !== "");
  const second = await sb.run(["start"], o);
  assert.equal(second.code, 1);
  // It waited for the first, saw it fail and be stopped, then tried itself.
  assert.match(second.stderr, /did not (report|become) ready within 600 ms/);
  assert.doesNotMatch(second.stdout, /already running/);
  assert.equal((await first).code, 1);
  await waitFor("the timed-out daemon to be stopped", () => processesWith(sb.marker).length === 0);
  assert.match(
    sb.readLog().trimEnd().split("\n").at(-1)!,
    /stopped by SIGTERM before it was ready/,
  );
});

/** Holds a flock on `path` from another program (util-linux flock) until killed. */
async function foreignLock(
  sb: Sandbox,
  path: string,
  mode: "-x" | "-s",
): Promise<Deno.ChildProcess> {
  const holder = new Deno.Command("flock", {
    args: ["--no-fork", mode, path, "sleep", "30"],
    env: sb.envMarker(),
  })
    .spawn();
  sb.extraPids.push(holder.pid);
  await waitFor("flock to hold the file", () => {
    const locks = Deno.readTextFileSync("/proc/locks");
    return locks.includes(` ${holder.pid} `) && locks.includes(`:${Deno.statSync(path).ino} `);
  });
  return holder;
}

for (const mode of ["-x", "-s"] as const) {
  Deno.test(`a pidfile locked (flock ${mode}) by another program: start fails with BAD_PIDFILE, never "pid null"`, async () => {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, "");
    const holder = await foreignLock(sb, sb.pidFile, mode);
    try {
      const start = await sb.run(["start"], { options: { readyTimeout: 300 } });
      assert.equal(start.code, 1, start.stdout);
      assert.match(start.stderr, /locked by (another program|a process) that wrote no pid/);
      assert.doesNotMatch(start.stdout + start.stderr, /pid null/);
      const stop = await sb.run(["stop"]);
      if (mode === "-s") {
        assert.equal(stop.code, 0, stop.stderr);
        assert.match(stop.stdout, /left in place: another program holds a lock on it/);
      } else {
        assert.equal(stop.code, 1);
        assert.match(stop.stderr, /locked but holds no valid pid; refusing to signal anything/);
      }
      assert.ok(sb.exists("app.pid"));
    } finally {
      holder.kill("SIGKILL");
      await holder.status;
    }
  });
}

Deno.test("lines logged just before the event loop blocks are on disk while it is blocked", async () => {
  await using sb = new Sandbox();
  const options = { stopTimeout: 200 };
  // The lines and the endless loop run in one turn, so only a write made
  // during the log call itself can put them on disk.
  const pid = await sb.start({ behavior: "log-and-block", options });
  await waitFor("both lines on disk", () => sb.readLog().includes("last words 2\n"));
  assert.match(sb.readLog(), /fx: last words 1\n.*fx: last words 2\n$/);
  assert.equal(procState(pid), "R", "still spinning in the loop, not exited");
  const stop = await sb.run(["stop"], { options });
  assert.match(stop.stdout, /after SIGKILL/);
  assert.doesNotMatch(sb.readLog(), /stopping: SIGTERM/, "the event loop never turned again");
});

Deno.test("a daemon killed before ready while a grandchild keeps the pipe open fails start at once", async () => {
  await using sb = new Sandbox();
  const t0 = performance.now();
  const out = await sb.run(["start"], {
    behavior: "orphan-then-die",
    options: { readyTimeout: 8000 },
  });
  const took = performance.now() - t0;
  assert.equal(out.code, 1);
  assert.match(out.stderr, /was killed by SIGKILL before it was ready/);
  assert.doesNotMatch(out.stderr, /call daemonize/);
  assert.ok(took < 4000, `took ${took} ms, not the whole readyTimeout`);
});

Deno.test("the Daemon controller honours the module's own env and umask", async () => {
  await using sb = new Sandbox();
  const app = new Daemon({
    module: new URL("./fixtures/app.ts", import.meta.url),
    pidFile: sb.pidFile,
    cwd: sb.dir,
    env: {
      FIXTURE_DIR: sb.dir,
      FIXTURE_BEHAVIOR: "report",
      FIXTURE_OPTIONS: JSON.stringify({ env: { FIXTURE_EXTRA_ENV: "from-module" }, umask: 0o077 }),
    },
  });
  await app.start();
  const report = JSON.parse(await waitFor("the report", () => sb.readLog("report.json")));
  assert.equal(report.env, "from-module");
  assert.equal(report.umask, 0o077);
  await app.stop();
});

Deno.test("run with a cwd that does not exist: BAD_OPTION naming cwd, no stack", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["run"], { options: { cwd: sb.path("nope") } });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /option "cwd" names ".*nope", which is not a directory/);
  assert.doesNotMatch(out.stderr, /unexpected error|^\s+at /m);
});
