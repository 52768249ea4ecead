// The lock-holder proof against util-linux flock(1) and plain processes:
// only a process whose open file holds an exclusive flock on the pidfile is
// the holder. Each case runs through both ways of looking: in this process
// (procLockProof, under --allow-all) and through /bin/sh (shellLockProof).

import assert from "node:assert/strict";
import { type LockProof, procLockProof } from "../lib/_proc.ts";
import { proveHolder, shellLockProof } from "../lib/launcher/_holder.ts";
import { flockHeld, isAlive, Sandbox, waitFor } from "./_helpers.ts";

const linux = Deno.build.os === "linux";
const needs = linux ? "" : " (ignored: needs Linux: /proc and util-linux flock(1))";

/** Both ways of asking whether `pid` holds `path`'s lock, and proveHolder's answer. */
function proofs(pid: number, path: string): Record<string, LockProof["kind"]> {
  const file = Deno.openSync(path, { read: true });
  try {
    return {
      proc: procLockProof(pid, file.statSync()).kind,
      shell: shellLockProof(pid, path).kind,
      proveHolder: proveHolder(pid, file, path).kind,
    };
  } finally {
    file.close();
  }
}

function all(kind: LockProof["kind"]): Record<string, LockProof["kind"]> {
  return { proc: kind, shell: kind, proveHolder: kind };
}

/** Whether `pid` has `path` open, by the test's own look at /proc/PID/fd. */
function hasOpen(pid: number, path: string): boolean {
  const want = Deno.statSync(path);
  try {
    return [...Deno.readDirSync(`/proc/${pid}/fd`)].some((entry) => {
      try {
        const info = Deno.statSync(`/proc/${pid}/fd/${entry.name}`);
        return info.dev === want.dev && info.ino === want.ino;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** An empty file `name` in the sandbox; its path. */
function emptyFile(sb: Sandbox, name: string): string {
  const path = sb.path(name);
  Deno.writeTextFileSync(path, "");
  return path;
}

Deno.test({
  name: "proof: a flock -x process holds the file; a live sleep does not" + needs,
  ignore: !linux,
  fn: async () => {
    await using sb = new Sandbox();
    const path = emptyFile(sb, "app.pid");
    const holder = sb.spawn("flock", ["--no-fork", "-x", path, "sleep", "30"]);
    const stranger = sb.spawn("sleep", ["30"]);
    await waitFor("flock to hold the lock", () => flockHeld(holder.pid, path, "WRITE"));
    assert.deepEqual(proofs(holder.pid, path), all("holder"));
    assert.ok(isAlive(stranger.pid));
    assert.deepEqual(proofs(stranger.pid, path), all("not-holder"));
  },
});

Deno.test({
  name: "proof: a process holding only a shared flock is not the holder" + needs,
  ignore: !linux,
  fn: async () => {
    await using sb = new Sandbox();
    const path = emptyFile(sb, "app.pid");
    const reader = sb.spawn("flock", ["--no-fork", "-s", path, "sleep", "30"]);
    await waitFor("flock -s to hold the lock", () => flockHeld(reader.pid, path, "READ"));
    assert.deepEqual(proofs(reader.pid, path), all("not-holder"));
  },
});

Deno.test({
  name: "proof: a process with the file open but unlocked is not the holder" + needs,
  ignore: !linux,
  fn: async () => {
    await using sb = new Sandbox();
    const path = emptyFile(sb, "app.pid");
    const opener = sb.spawn("/bin/sh", ["-c", 'exec sleep 30 <"$1"', "sh", path]);
    await waitFor("sleep to have the file open", () => hasOpen(opener.pid, path));
    assert.deepEqual(proofs(opener.pid, path), all("not-holder"));
  },
});

Deno.test({
  name: "proof: an exclusive lock on another file does not make the holder of this one" + needs,
  ignore: !linux,
  fn: async () => {
    await using sb = new Sandbox();
    const path = emptyFile(sb, "app.pid");
    const other = emptyFile(sb, "other.lock");
    const both = sb.spawn("flock", [
      "--no-fork",
      "-x",
      other,
      "/bin/sh",
      "-c",
      'exec sleep 30 <"$1"',
      "sh",
      path,
    ]);
    await waitFor(
      "the lock on the other file and this one open",
      () => flockHeld(both.pid, other, "WRITE") && hasOpen(both.pid, path),
    );
    assert.deepEqual(proofs(both.pid, path), all("not-holder"));
    assert.deepEqual(proofs(both.pid, other), all("holder"));
  },
});

Deno.test({
  name: "proof: a pid that has exited is not the holder" + needs,
  ignore: !linux,
  fn: async () => {
    await using sb = new Sandbox();
    const path = emptyFile(sb, "app.pid");
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    assert.deepEqual(proofs(gone.pid, path), all("not-holder"));
  },
});
