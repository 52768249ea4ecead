// lib/_safe_open.ts in-process: every kind of hostile path where the
// library expects its own regular file, on a real file system, and a file
// replaced between the lstat and the open.

import assert from "node:assert/strict";
import { DaemonError } from "../lib/errors.ts";
import { type FileRole, inspectPath, type OpenMode, openOwnFile } from "../lib/_safe_open.ts";
import { waitFor } from "./_helpers.ts";

const LOG: FileRole = { option: "logFile", code: "BAD_OPTION" };
const PID: FileRole = { option: "pidFile", code: "BAD_PIDFILE" };
const CREATE: OpenMode = { append: true, create: true };
const EXISTING: OpenMode = { read: true, write: true };
const isRoot = Deno.uid() === 0;

/** A private temporary directory, removed on dispose. */
function tempDir(): Disposable & { path: string } {
  const path = Deno.makeTempDirSync({ prefix: "daemonize-safe-open-" });
  return {
    path,
    [Symbol.dispose]() {
      Deno.chmodSync(path, 0o700);
      Deno.removeSync(path, { recursive: true });
    },
  };
}

/** Asserts that `fn` throws a DaemonError with `role`'s code whose message names the path and matches `why`. */
function refuses(fn: () => unknown, role: FileRole, path: string, why: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DaemonError, `a DaemonError, not ${err}`);
    assert.equal(err.code, role.code);
    assert.ok(err.message.includes(`${role.option} "${path}"`), err.message);
    assert.match(err.message, why);
    return true;
  });
}

/** Every way in: create, open existing, and the pre-spawn check. */
function refusedEverywhere(path: string, why: RegExp): void {
  refuses(() => openOwnFile(path, LOG, CREATE), LOG, path, why);
  refuses(() => openOwnFile(path, PID, EXISTING), PID, path, why);
  refuses(() => openOwnFile(path, LOG, { append: true }), LOG, path, why);
  refuses(() => inspectPath(path, LOG), LOG, path, why);
}

const snapshot = (path: string) => {
  const info = Deno.lstatSync(path);
  return { ino: info.ino, mode: info.mode, size: info.size, mtime: info.mtime?.getTime() };
};

Deno.test("safe open: a symlink to an existing file is refused, and the target is untouched", () => {
  using dir = tempDir();
  const target = `${dir.path}/secret`;
  Deno.writeTextFileSync(target, "secret\n");
  const before = snapshot(target);
  const path = `${dir.path}/app.log`;
  Deno.symlinkSync(target, path);
  refusedEverywhere(path, /is a symlink; it is never followed/);
  assert.deepEqual(snapshot(target), before);
  assert.equal(Deno.readTextFileSync(target), "secret\n");
  assert.ok(Deno.lstatSync(path).isSymlink);
});

Deno.test("safe open: a dangling symlink is refused and its target is not created", () => {
  using dir = tempDir();
  const target = `${dir.path}/would-be-created`;
  const path = `${dir.path}/app.log`;
  Deno.symlinkSync(target, path);
  refusedEverywhere(path, /is a symlink/);
  assert.throws(() => Deno.lstatSync(target), Deno.errors.NotFound);
});

Deno.test("safe open: a symlink loop is refused as a symlink, not with a raw ELOOP", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  Deno.symlinkSync(`${dir.path}/other`, path);
  Deno.symlinkSync(path, `${dir.path}/other`);
  refusedEverywhere(path, /is a symlink/);
});

Deno.test("safe open: a directory is refused", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  Deno.mkdirSync(path);
  refusedEverywhere(path, /is a directory; give a file path inside it/);
});

Deno.test("safe open: a FIFO is refused without opening it", async () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  assert.ok(new Deno.Command("mkfifo", { args: [path] }).outputSync().success);
  // A reader waiting at the other end, so that code which did open the FIFO
  // fails this test instead of blocking the whole test process.
  const reader = new Deno.Command("sh", { args: ["-c", 'exec cat "$0" >/dev/null', path] })
    .spawn();
  try {
    refusedEverywhere(path, /is not a regular file/);
    assert.ok(Deno.lstatSync(path).isFifo);
  } finally {
    reader.kill("SIGKILL");
    await reader.status;
  }
});

Deno.test("safe open: a Unix socket is refused", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    refusedEverywhere(path, /is not a regular file/);
  } finally {
    listener.close();
  }
});

Deno.test("safe open: a device (/dev/null) is refused", () => {
  refusedEverywhere("/dev/null", /is not a regular file/);
});

Deno.test({
  name: `safe open: a device node made where the file should be is refused${
    isRoot ? "" : " (ignored: mknod needs root)"
  }`,
  ignore: !isRoot,
  fn() {
    using dir = tempDir();
    const path = `${dir.path}/app.log`;
    assert.ok(new Deno.Command("mknod", { args: [path, "c", "1", "3"] }).outputSync().success);
    refusedEverywhere(path, /is not a regular file/);
    assert.ok(Deno.lstatSync(path).isCharDevice);
  },
});

Deno.test("safe open: a missing directory is named, with what to do", () => {
  using dir = tempDir();
  const path = `${dir.path}/missing/app.log`;
  refuses(
    () => openOwnFile(path, LOG, CREATE),
    LOG,
    path,
    /directory .*\/missing of .* does not exist; create it first/,
  );
  refuses(() => openOwnFile(path, LOG, { append: true }), LOG, path, /does not exist/);
  assert.throws(() => Deno.lstatSync(`${dir.path}/missing`), Deno.errors.NotFound);
});

Deno.test("safe open: a world-writable directory without the sticky bit is refused, nothing created", () => {
  using dir = tempDir();
  Deno.chmodSync(dir.path, 0o777);
  const path = `${dir.path}/app.log`;
  refuses(() => openOwnFile(path, LOG, CREATE), LOG, path, /writable by everyone and not sticky/);
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
  Deno.writeTextFileSync(path, "already there\n");
  refusedEverywhere(path, /writable by everyone and not sticky/);
  assert.equal(Deno.readTextFileSync(path), "already there\n");
});

Deno.test("safe open: a sticky world-writable directory is fine for a file of our own", () => {
  using dir = tempDir();
  Deno.chmodSync(dir.path, 0o1777);
  const path = `${dir.path}/app.log`;
  const created = openOwnFile(path, LOG, CREATE)!;
  created.writeSync(new TextEncoder().encode("one\n"));
  created.close();
  const again = openOwnFile(path, LOG, CREATE)!;
  again.writeSync(new TextEncoder().encode("two\n"));
  again.close();
  assert.equal(Deno.readTextFileSync(path), "one\ntwo\n");
});

Deno.test({
  name: `safe open: in a sticky world-writable directory, a file of another uid is refused${
    isRoot ? "" : " (ignored: chown needs root)"
  }`,
  ignore: !isRoot,
  fn() {
    using dir = tempDir();
    Deno.chmodSync(dir.path, 0o1777);
    const path = `${dir.path}/app.pid`;
    Deno.writeTextFileSync(path, "4242\n");
    Deno.chownSync(path, 65534, 65534);
    refuses(() => openOwnFile(path, PID, CREATE), PID, path, /belongs to uid 65534, not to you/);
    refuses(() => openOwnFile(path, PID, EXISTING), PID, path, /belongs to uid 65534/);
    refuses(() => inspectPath(path, PID), PID, path, /belongs to uid 65534/);
    assert.equal(Deno.readTextFileSync(path), "4242\n");
  },
});

Deno.test("safe open: a regular file is opened in place, never truncated; a new one gets createMode under the umask", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  Deno.writeTextFileSync(path, "kept\n");
  const ino = Deno.statSync(path).ino;
  const file = openOwnFile(path, LOG, CREATE)!;
  file.writeSync(new TextEncoder().encode("added\n"));
  assert.equal(file.statSync().ino, ino);
  file.close();
  assert.equal(Deno.readTextFileSync(path), "kept\nadded\n");

  const umask = Deno.umask();
  const fresh = `${dir.path}/app.pid`;
  openOwnFile(fresh, PID, { read: true, write: true, create: true, createMode: 0o640 })!.close();
  assert.equal(Deno.statSync(fresh).mode! & 0o777, 0o640 & ~umask);
  const plain = `${dir.path}/out.txt`;
  openOwnFile(plain, { option: "stdout", code: "BAD_OPTION" }, CREATE)!.close();
  assert.equal(Deno.statSync(plain).mode! & 0o777, 0o644 & ~umask);
  assert.equal(openOwnFile(`${dir.path}/absent`, LOG, { append: true }), null);
});

/**
 * Runs `act` on the path just before each open of an existing file (not the
 * O_EXCL create), after openOwnFile's lstat: the replacement happens for
 * real, on the file system, in the window the module must guard.
 */
function beforeOpen(act: (path: string, count: number) => void): Disposable {
  const deno = Deno as { openSync: typeof Deno.openSync };
  const real = deno.openSync;
  let count = 0;
  deno.openSync = (path, options) => {
    if (!options?.createNew) act(String(path), ++count);
    return real(path, options);
  };
  return {
    [Symbol.dispose]() {
      deno.openSync = real;
    },
  };
}

Deno.test("safe open: replaced by a symlink between lstat and open: the target is never opened", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  const secret = `${dir.path}/secret`;
  Deno.writeTextFileSync(secret, "secret\n");
  Deno.writeTextFileSync(path, "mine\n");
  const before = snapshot(secret);
  let swapped = 0;
  {
    using _ = beforeOpen((p) => {
      if (p !== path || Deno.lstatSync(path).isSymlink) return;
      Deno.symlinkSync(secret, `${path}.swap`);
      Deno.renameSync(`${path}.swap`, path);
      swapped++;
    });
    refuses(() => openOwnFile(path, LOG, CREATE), LOG, path, /is a symlink/);
  }
  assert.equal(swapped, 1, "the swap happened inside the window");
  assert.deepEqual(snapshot(secret), before);
});

Deno.test("safe open: replaced by another regular file between lstat and open: the new file is opened", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  Deno.writeTextFileSync(path, "old\n");
  let ino: number | null = null;
  let file: Deno.FsFile | null;
  {
    using _ = beforeOpen((_p, count) => {
      if (count !== 1) return;
      Deno.writeTextFileSync(`${path}.new`, "new\n");
      Deno.renameSync(`${path}.new`, path);
      ino = Deno.statSync(path).ino;
    });
    file = openOwnFile(path, LOG, { read: true });
  }
  assert.ok(file !== null && ino !== null);
  assert.equal(file.statSync().ino, ino);
  file.close();
});

Deno.test("safe open: replaced on every attempt: a DaemonError after a few tries, not a loop", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  Deno.writeTextFileSync(path, "0\n");
  let tries = 0;
  {
    using _ = beforeOpen((_p, count) => {
      tries = count;
      Deno.writeTextFileSync(`${path}.new`, `${count}\n`);
      Deno.renameSync(`${path}.new`, path);
    });
    refuses(() => openOwnFile(path, LOG, CREATE), LOG, path, /keeps changing while it is opened/);
  }
  assert.ok(tries >= 2 && tries <= 10, `${tries} tries`);
});

Deno.test("safe open: removed between lstat and open: created afresh (create) or reported missing", () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  Deno.writeTextFileSync(path, "old\n");
  {
    using _ = beforeOpen((_p, count) => {
      if (count === 1) Deno.removeSync(path);
    });
    const file = openOwnFile(path, LOG, CREATE)!;
    file.close();
  }
  assert.equal(Deno.readTextFileSync(path), "", "a new, empty file");
  {
    using _ = beforeOpen((_p, count) => {
      if (count === 1) Deno.removeSync(path);
    });
    assert.equal(openOwnFile(path, LOG, { append: true }), null);
  }
});

Deno.test("safe open: a real process swapping a symlink and a file in a loop never gets the target opened", async () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  const secret = `${dir.path}/secret`;
  Deno.writeTextFileSync(secret, "secret\n");
  const secretIno = Deno.statSync(secret).ino;
  const swapper = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const path = Deno.env.get("SWAP_PATH"), secret = Deno.env.get("SWAP_TARGET");
       for (;;) {
         Deno.writeTextFileSync(path + ".f", "");
         Deno.renameSync(path + ".f", path);
         Deno.symlinkSync(secret, path + ".l");
         Deno.renameSync(path + ".l", path);
       }`,
    ],
    env: { SWAP_PATH: path, SWAP_TARGET: secret },
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Watches the real opens: one that lands on the secret is the race being
  // hit (lstat saw the file, open followed the symlink).
  let raced = 0;
  const deno = Deno as { openSync: typeof Deno.openSync };
  const real = deno.openSync;
  deno.openSync = (p, options) => {
    const file = real(p, options);
    if (file.statSync().ino === secretIno) raced++;
    return file;
  };
  const outcomes = { opened: 0, refused: 0 };
  try {
    await waitFor("the swapper to start", () => {
      try {
        return Deno.lstatSync(path).isSymlink;
      } catch {
        return false;
      }
    });
    const deadline = performance.now() + 5000;
    while ((raced < 3 || outcomes.opened < 3) && performance.now() < deadline) {
      try {
        const file = openOwnFile(path, LOG, { append: true });
        if (file === null) continue;
        assert.notEqual(file.statSync().ino, secretIno, "never the symlink's target");
        file.writeSync(new TextEncoder().encode("x"));
        file.close();
        outcomes.opened++;
      } catch (err) {
        if (!(err instanceof DaemonError)) throw err;
        assert.match(err.message, /is a symlink|keeps changing/);
        outcomes.refused++;
      }
    }
  } finally {
    deno.openSync = real;
    swapper.kill("SIGKILL");
    await swapper.status;
  }
  assert.equal(Deno.readTextFileSync(secret), "secret\n");
  assert.ok(raced >= 1, `the race was hit (${JSON.stringify({ raced, ...outcomes })})`);
  assert.ok(outcomes.opened >= 1 && outcomes.refused >= 1, JSON.stringify(outcomes));
});

const LIB = new URL("../lib/", import.meta.url).href;

/** Runs openOwnFile(path, logFile, create) in a `deno run` subprocess under `flags`, optionally as another user. */
async function openElsewhere(
  path: string,
  flags: string[],
  as: string[] = [],
): Promise<{ code?: string; message?: string; opened?: boolean }> {
  using dir = tempDir();
  Deno.chmodSync(dir.path, 0o755);
  const script = `${dir.path}/open.ts`;
  Deno.writeTextFileSync(
    script,
    `import { openOwnFile } from "${LIB}_safe_open.ts";
     try {
       openOwnFile(Deno.args[0], { option: "logFile", code: "BAD_OPTION" }, { append: true, create: true });
       console.log(JSON.stringify({ opened: true }));
     } catch (err) {
       console.log(JSON.stringify({ code: err.code, message: err.message }));
     }`,
  );
  Deno.mkdirSync(`${dir.path}/cache`);
  if (as.length > 0) Deno.chownSync(`${dir.path}/cache`, 65534, 65534);
  const command = [...as, Deno.execPath(), "run", ...flags, script, path];
  const out = await new Deno.Command(command[0], {
    args: command.slice(1),
    env: { DENO_DIR: `${dir.path}/cache`, NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.ok(out.success && stdout !== "", new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout);
}

Deno.test("safe open: no Deno write permission is PERMISSION naming the flags, not a raw NotCapable", async () => {
  using dir = tempDir();
  const path = `${dir.path}/app.log`;
  const result = await openElsewhere(path, ["--allow-read"]);
  assert.equal(result.code, "PERMISSION");
  assert.match(
    result.message!,
    /Deno denied access to logFile ".*app\.log": grant it with .*--allow-write/,
  );
  assert.deepEqual([...Deno.readDirSync(dir.path)], []);
  assert.deepEqual(await openElsewhere(path, ["--allow-read", "--allow-write"]), { opened: true });
});

Deno.test({
  name: `safe open: a directory the user cannot write is PERMISSION with what to do${
    isRoot ? "" : " (ignored: running as another user needs root)"
  }`,
  ignore: !isRoot,
  async fn() {
    using dir = tempDir();
    Deno.chmodSync(dir.path, 0o755); // root's, readable by all, writable by root only
    const path = `${dir.path}/app.log`;
    const nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"];
    const result = await openElsewhere(path, ["-A"], nobody);
    assert.equal(result.code, "PERMISSION");
    assert.match(
      result.message!,
      /cannot open logFile ".*app\.log": permission denied; make .* writable/,
    );
    assert.deepEqual([...Deno.readDirSync(dir.path)], []);
  },
});
