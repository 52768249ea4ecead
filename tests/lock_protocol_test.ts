// The pidfile's lock protocol, in process and without a daemon: the
// daemon's side (lib/daemon/_lock.ts: take the lock, keep the content
// true, mend the path) and the launcher's side (lib/launcher/_probe.ts:
// look, wait for ready, wait for release), against real flock(1) holders.

import assert from "node:assert/strict";
import { PidFileLock } from "../lib/daemon/_lock.ts";
import { awaitReady, awaitRelease, probePidFile } from "../lib/launcher/_probe.ts";
import { flockHeld, Sandbox, waitFor } from "./_helpers.ts";

/** flock(1) and /proc/locks: util-linux on Linux. */
const flock = Deno.build.os === "linux" &&
  new Deno.Command("sh", { args: ["-c", "command -v flock"] }).outputSync().success;
const needs = flock ? "" : " (ignored: needs Linux with util-linux flock(1))";
const root = Deno.uid() === 0;

/** Whether a process other than this one could take `path`'s exclusive lock now. */
function lockable(path: string): boolean {
  return new Deno.Command("flock", { args: ["-n", "-x", path, "true"] }).outputSync().success;
}

/**
 * A flock(1) process that holds `path`'s lock (exclusive or shared) and,
 * with `content`, writes it there ("$$" for its own pid) once it holds it.
 */
async function holder(
  sb: Sandbox,
  path: string,
  mode: "-x" | "-s",
  content?: string,
): Promise<Deno.ChildProcess> {
  const write = content === undefined ? "" : `printf '${content}' "$$" >"$1"; `;
  const child = sb.spawn("flock", [
    "--no-fork",
    mode,
    path,
    "/bin/sh",
    "-c",
    `${write}exec sleep 30`,
    "sh",
    path,
  ]);
  await waitFor(
    "flock(1) to hold the lock",
    () => flockHeld(child.pid, path, mode === "-x" ? "WRITE" : "READ"),
  );
  if (content !== undefined) {
    await waitFor("the holder's content", () => Deno.readTextFileSync(path) !== "");
  }
  return child;
}

async function acquired(path: string, waitMs?: number): Promise<PidFileLock> {
  const got = await PidFileLock.acquire(path, Deno.pid, waitMs);
  assert.ok(got instanceof PidFileLock, `acquired: ${JSON.stringify(got)}`);
  return got;
}

Deno.test({
  name:
    "lock: acquire on a missing file takes the exclusive lock and marks it starting; update writes ready and stopping" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    const lock = await acquired(sb.pidFile);
    const same = Deno.openSync(sb.pidFile, { read: true });
    let held = true;
    try {
      assert.ok(flockHeld(Deno.pid, sb.pidFile, "WRITE"), "this process holds an exclusive flock");
      assert.equal(lockable(sb.pidFile), false, "another process cannot take it");
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}`, "starting: no newline yet");
      lock.update({ starting: false });
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}\n`, "ready");
      lock.update({ stopping: true });
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}\n\n`, "stopping");
      lock.release();
      held = false;
      assert.equal(sb.exists("app.pid"), false, "release removes the pidfile");
      assert.ok(same.tryLockSync(true), "and lets go of the lock");
    } finally {
      if (held) lock.release();
      same.close();
    }
  },
});

Deno.test({
  name: "lock: acquire on a stale pidfile rewrites the old content in full" + needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, "4194304\nkeeper=1\nrestarts=12\n");
    const lock = await acquired(sb.pidFile);
    try {
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}`);
    } finally {
      lock.release();
    }
  },
});

Deno.test({
  name:
    "lock: acquire is refused while a flock(1) process holds the file, and leaves its content alone" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, "");
    const other = await holder(sb, sb.pidFile, "-x", "%s\\n");
    const got = await PidFileLock.acquire(sb.pidFile, Deno.pid, 2000);
    assert.deepEqual(got, { heldBy: other.pid });
    assert.equal(
      Deno.readTextFileSync(sb.pidFile),
      `${other.pid}\n`,
      "the holder's pidfile intact",
    );
    assert.ok(flockHeld(other.pid, sb.pidFile, "WRITE"), "the holder still holds it");
  },
});

Deno.test({
  name: "lock: a holder that never writes a valid pid is refused with heldBy null at the deadline" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, "not a pid");
    await holder(sb, sb.pidFile, "-x");
    const t0 = performance.now();
    const got = await PidFileLock.acquire(sb.pidFile, Deno.pid, 300);
    assert.deepEqual(got, { heldBy: null });
    assert.ok(performance.now() - t0 >= 300, "it waited for the content until the deadline");
    assert.equal(Deno.readTextFileSync(sb.pidFile), "not a pid");
  },
});

Deno.test({
  name: "lock: a shared flock held by another program for long refuses acquire (heldBy null)" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, "");
    await holder(sb, sb.pidFile, "-s");
    assert.deepEqual(await PidFileLock.acquire(sb.pidFile, Deno.pid, 2000), { heldBy: null });
    assert.equal(flockHeld(Deno.pid, sb.pidFile, "WRITE"), false);
  },
});

Deno.test({
  name:
    "lock: check() restores a removed pidfile, locked, with the current content; ok while untouched" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    const lock = await acquired(sb.pidFile);
    try {
      lock.update({ starting: false });
      assert.deepEqual(lock.check(), { kind: "ok" });
      Deno.removeSync(sb.pidFile);
      assert.deepEqual(lock.check(), { kind: "restored", was: "missing" });
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}\n`);
      assert.ok(flockHeld(Deno.pid, sb.pidFile, "WRITE"), "the new file is locked");
      assert.equal(lockable(sb.pidFile), false);
      assert.deepEqual(lock.check(), { kind: "ok" });
    } finally {
      lock.release();
    }
  },
});

Deno.test({
  name: "lock: check() restores a pidfile replaced by another file, and one of another user" +
    (root ? needs : " (ignored: chown to another user needs root)"),
  ignore: !flock || !root,
  fn: async () => {
    await using sb = new Sandbox();
    const lock = await acquired(sb.pidFile);
    try {
      lock.update({ starting: false });
      Deno.writeTextFileSync(sb.path("other"), "1\n");
      Deno.renameSync(sb.path("other"), sb.pidFile);
      assert.deepEqual(lock.check(), { kind: "restored", was: "replaced" });
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}\n`);
      assert.ok(flockHeld(Deno.pid, sb.pidFile, "WRITE"));
      Deno.writeTextFileSync(sb.path("other"), "1\n");
      Deno.chownSync(sb.path("other"), 65534, 65534);
      Deno.renameSync(sb.path("other"), sb.pidFile);
      assert.deepEqual(lock.check(), { kind: "restored", was: "foreign" });
      assert.equal(Deno.statSync(sb.pidFile).uid, Deno.uid());
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${Deno.pid}\n`);
    } finally {
      lock.release();
    }
  },
});

Deno.test({
  name:
    "lock: check() yields when another holder has the path (taken), and waits out a shared lock (busy)" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    const lock = await acquired(sb.pidFile);
    try {
      Deno.removeSync(sb.pidFile);
      Deno.writeTextFileSync(sb.pidFile, "");
      const reader = await holder(sb, sb.pidFile, "-s");
      assert.deepEqual(lock.check(), { kind: "busy" });
      assert.equal(Deno.readTextFileSync(sb.pidFile), "", "a busy path is left alone");
      reader.kill("SIGKILL");
      await reader.status;
      Deno.removeSync(sb.pidFile);
      Deno.writeTextFileSync(sb.pidFile, "");
      const other = await holder(sb, sb.pidFile, "-x", "%s\\n");
      assert.deepEqual(lock.check(), { kind: "taken", by: other.pid });
      assert.equal(Deno.readTextFileSync(sb.pidFile), `${other.pid}\n`, "its pidfile intact");
      assert.ok(flockHeld(other.pid, sb.pidFile, "WRITE"));
    } finally {
      lock.release();
    }
    assert.ok(sb.exists("app.pid"), "release leaves the other holder's pidfile");
  },
});

Deno.test({
  name: "probe: a missing pidfile, a stale one (left in place) and a held one" + needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    assert.deepEqual(probePidFile(sb.pidFile), { kind: "missing" });
    Deno.writeTextFileSync(sb.pidFile, "4242\n");
    const stale = probePidFile(sb.pidFile);
    assert.equal(stale.kind, "stale");
    assert.equal(stale.kind === "stale" && stale.content?.pid, 4242);
    assert.equal(Deno.readTextFileSync(sb.pidFile), "4242\n", "a probe changes nothing");
    const other = await holder(sb, sb.pidFile, "-x", "%s\\n");
    const held = probePidFile(sb.pidFile);
    try {
      assert.equal(held.kind, "held");
      assert.equal(held.kind === "held" && held.content?.pid, other.pid);
      assert.equal(held.kind === "held" && held.content?.starting, false);
    } finally {
      if (held.kind === "held") held.file.close();
    }
    assert.ok(flockHeld(other.pid, sb.pidFile, "WRITE"), "the holder keeps its lock");
  },
});

/** Probes `path`, which must be held, and hands its open file to `use`. */
async function withHeld<T>(path: string, use: (file: Deno.FsFile) => Promise<T>): Promise<T> {
  const state = probePidFile(path);
  assert.equal(state.kind, "held");
  if (state.kind !== "held") throw new Error("unreachable");
  try {
    return await use(state.file);
  } finally {
    state.file.close();
  }
}

Deno.test({
  name: "probe: awaitReady waits for a starting holder to become ready, or to be stopping" + needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    const lock = await acquired(sb.pidFile);
    try {
      await withHeld(sb.pidFile, async (file) => {
        const early = await awaitReady(file, 50);
        assert.equal(early.kind, "timeout");
        assert.equal(early.kind === "timeout" && early.content?.starting, true);
        const timer = setTimeout(() => lock.update({ starting: false }), 100);
        const t0 = performance.now();
        const ready = await awaitReady(file, 5000);
        clearTimeout(timer);
        assert.equal(ready.kind, "ready");
        assert.equal(ready.kind === "ready" && ready.content.pid, Deno.pid);
        assert.ok(performance.now() - t0 >= 90, "it waited for the ready mark");
        lock.update({ stopping: true });
        assert.equal((await awaitReady(file, 5000)).kind, "stopping");
      });
    } finally {
      lock.release();
    }
  },
});

Deno.test({
  name:
    "probe: awaitReady and awaitRelease see a flock(1) holder let go; awaitRelease times out while it holds" +
    needs,
  ignore: !flock,
  fn: async () => {
    await using sb = new Sandbox();
    Deno.writeTextFileSync(sb.pidFile, "");
    const other = await holder(sb, sb.pidFile, "-x", "%s");
    await withHeld(sb.pidFile, async (file) => {
      const t0 = performance.now();
      assert.equal(await awaitRelease(file, 200), false);
      assert.ok(performance.now() - t0 >= 200, "it waited until the deadline");
      const starting = await awaitReady(file, 50);
      assert.deepEqual(starting.kind === "timeout" && starting.content?.pid, other.pid);
      const killer = setTimeout(() => other.kill("SIGKILL"), 100);
      try {
        assert.deepEqual(await awaitReady(file, 5000), { kind: "released" });
      } finally {
        clearTimeout(killer);
      }
      assert.equal(await awaitRelease(file, 5000), true);
    });
    const next = await holder(sb, sb.pidFile, "-x");
    await withHeld(sb.pidFile, async (file) => {
      const killer = setTimeout(() => next.kill("SIGKILL"), 100);
      try {
        assert.equal(await awaitRelease(file, 5000), true);
      } finally {
        clearTimeout(killer);
      }
    });
  },
});
