// The lock-holder proof against util-linux flock(1) and plain processes:
// only a process whose open file holds an exclusive flock on the pidfile is
// the holder. Each case runs through both ways of looking: in this process
// (procLockProof, under --allow-all) and through /bin/sh (shellLockProof).

import assert from "node:assert/strict";
import { type LockProof, procLockProof } from "../lib/_proc.ts";
import { proveHolder, shellLockProof } from "../lib/launcher/_holder.ts";
import { isAlive, waitFor } from "./_helpers.ts";

const linux = Deno.build.os === "linux";

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

/** Whether /proc/locks shows a granted lock of `mode` by `pid` on `path`'s inode. */
function locked(pid: number, path: string, mode: "READ" | "WRITE"): boolean {
  const ino = Deno.statSync(path).ino;
  return Deno.readTextFileSync("/proc/locks").split("\n").some((line) =>
    !line.includes("->") && line.includes(` ${mode} `) && line.includes(` ${pid} `) &&
    line.includes(`:${ino} `)
  );
}

/** Temporary files and the processes started on them, all killed by pid at the end. */
class Bench implements AsyncDisposable {
  readonly dir = Deno.makeTempDirSync({ prefix: "daemonize-proof-" });
  readonly #children: Deno.ChildProcess[] = [];

  file(name: string): string {
    const path = `${this.dir}/${name}`;
    Deno.writeTextFileSync(path, "");
    return path;
  }

  spawn(command: string, args: string[]): Deno.ChildProcess {
    const child = new Deno.Command(command, { args, stdin: "null", stdout: "null", stderr: "null" })
      .spawn();
    this.#children.push(child);
    return child;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    }
    Deno.removeSync(this.dir, { recursive: true });
  }
}

Deno.test({
  name: "proof: a flock -x process holds the file; a live sleep does not",
  ignore: !linux,
  fn: async () => {
    await using b = new Bench();
    const path = b.file("app.pid");
    const holder = b.spawn("flock", ["--no-fork", "-x", path, "sleep", "30"]);
    const stranger = b.spawn("sleep", ["30"]);
    await waitFor("flock to hold the lock", () => locked(holder.pid, path, "WRITE"));
    assert.deepEqual(proofs(holder.pid, path), all("holder"));
    assert.ok(isAlive(stranger.pid));
    assert.deepEqual(proofs(stranger.pid, path), all("not-holder"));
  },
});

Deno.test({
  name: "proof: a process holding only a shared flock is not the holder",
  ignore: !linux,
  fn: async () => {
    await using b = new Bench();
    const path = b.file("app.pid");
    const reader = b.spawn("flock", ["--no-fork", "-s", path, "sleep", "30"]);
    await waitFor("flock -s to hold the lock", () => locked(reader.pid, path, "READ"));
    assert.deepEqual(proofs(reader.pid, path), all("not-holder"));
  },
});

Deno.test({
  name: "proof: a process with the file open but unlocked is not the holder",
  ignore: !linux,
  fn: async () => {
    await using b = new Bench();
    const path = b.file("app.pid");
    const opener = b.spawn("/bin/sh", ["-c", 'exec sleep 30 <"$1"', "sh", path]);
    await waitFor("sleep to have the file open", () => hasOpen(opener.pid, path));
    assert.deepEqual(proofs(opener.pid, path), all("not-holder"));
  },
});

Deno.test({
  name: "proof: an exclusive lock on another file does not make the holder of this one",
  ignore: !linux,
  fn: async () => {
    await using b = new Bench();
    const path = b.file("app.pid");
    const other = b.file("other.lock");
    const both = b.spawn("flock", [
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
      () => locked(both.pid, other, "WRITE") && hasOpen(both.pid, path),
    );
    assert.deepEqual(proofs(both.pid, path), all("not-holder"));
    assert.deepEqual(proofs(both.pid, other), all("holder"));
  },
});

Deno.test({
  name: "proof: a pid that has exited is not the holder",
  ignore: !linux,
  fn: async () => {
    await using b = new Bench();
    const path = b.file("app.pid");
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    assert.deepEqual(proofs(gone.pid, path), all("not-holder"));
  },
});
