// status, reload and stop on a real daemon whose pidfile lives on each
// common Linux file system: ext4, xfs, tmpfs, btrfs (top level and a
// subvolume) and overlayfs (upper on a tmpfs, lower on disk). On btrfs and
// on such an overlay the device in /proc/PID/fdinfo's lock lines differs
// from stat().dev, which once made stop refuse the real daemon. Each file
// system is mounted once (loop images, as root) and always unmounted and
// detached at the end; where mounting is not possible the test is ignored
// and its name says why.

import assert from "node:assert/strict";
import { isAlive, Sandbox, waitFor } from "./_helpers.ts";

function run(command: string, args: string[]): { ok: boolean; out: string } {
  try {
    const out = new Deno.Command(command, { args, stdin: "null" }).outputSync();
    const text = new TextDecoder().decode(out.success ? out.stdout : out.stderr);
    return { ok: out.success, out: text.trim() };
  } catch (err) {
    return { ok: false, out: String(err) };
  }
}

function must(command: string, args: string[]): string {
  const { ok, out } = run(command, args);
  if (!ok) throw new Error(`${command} ${args.join(" ")}: ${out}`);
  return out;
}

/** A program from PATH or the sbin directories, where mkfs tools live. */
function tool(name: string): string | null {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not there */ }
  }
  return null;
}

/** Whether the kernel has (or can load) file system `name`. */
function kernelHas(name: string): boolean {
  const known = Deno.readTextFileSync("/proc/filesystems").split("\n").some((line) =>
    line.split("\t")[1] === name
  );
  if (known) return true;
  const release = Deno.osRelease();
  try {
    return Deno.statSync(`/lib/modules/${release}/kernel/fs/${name}`).isDirectory;
  } catch {
    return false;
  }
}

/** Why mounting cannot be tested here, or null when it can. */
function mountBlocker(): string | null {
  if (Deno.build.os !== "linux") return "Linux only";
  if (Deno.uid() !== 0) return "mounting needs root";
  const dir = Deno.makeTempDirSync({ prefix: "daemonize-mnt-probe-" });
  try {
    const mount = run("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
    if (!mount.ok) return `mount is not permitted here (${mount.out})`;
    must("umount", [dir]);
    const loop = run("losetup", ["-f"]);
    if (!loop.ok) return `no loop device (${loop.out})`;
    return null;
  } finally {
    Deno.removeSync(dir);
  }
}

const blocker = mountBlocker();

/** Why file system `fs` (made by `mkfs`, if any) cannot be tested, or null. */
function blockerFor(fs: string, mkfs: string | null): string | null {
  if (blocker !== null) return blocker;
  if (!kernelHas(fs)) return `the kernel has no ${fs}`;
  if (mkfs !== null && tool(mkfs) === null) return `${mkfs} is not installed`;
  return null;
}

/** Mounts made for one test, unmounted (and loop devices detached) on dispose, in reverse. */
class Mounts implements AsyncDisposable {
  readonly root = Deno.makeTempDirSync({ prefix: "daemonize-fs-" });
  readonly #undo: (() => Promise<void>)[] = [];

  dir(name: string): string {
    const path = `${this.root}/${name}`;
    Deno.mkdirSync(path, { recursive: true });
    return path;
  }

  #mounted(dir: string): void {
    this.#undo.push(async () => {
      // A daemon killed a moment ago may still be closing its files.
      const deadline = performance.now() + 5000;
      for (;;) {
        const out = run("umount", [dir]);
        if (out.ok) return;
        if (performance.now() > deadline) {
          run("umount", ["-l", dir]);
          throw new Error(`could not unmount ${dir}: ${out.out}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  }

  tmpfs(name: string): string {
    const dir = this.dir(name);
    must("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dir]);
    this.#mounted(dir);
    return dir;
  }

  /** A sparse image of `size` made by `mkfs ...args`, loop-mounted at `name`. */
  image(name: string, size: string, mkfs: string, args: string[]): string {
    const image = `${this.root}/${name}.img`;
    must("truncate", ["-s", size, image]);
    must(tool(mkfs)!, [...args, image]);
    const device = must("losetup", ["-f", "--show", image]);
    this.#undo.push(() => Promise.resolve(void must("losetup", ["-d", device])));
    const dir = this.dir(name);
    must("mount", [device, dir]);
    this.#mounted(dir);
    return dir;
  }

  overlay(name: string, lower: string, upperFs: string): string {
    const dir = this.dir(name);
    Deno.mkdirSync(`${upperFs}/upper`);
    Deno.mkdirSync(`${upperFs}/work`);
    must("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${lower},upperdir=${upperFs}/upper,workdir=${upperFs}/work`,
      dir,
    ]);
    this.#mounted(dir);
    return dir;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const errors: unknown[] = [];
    for (const undo of this.#undo.reverse()) {
      try {
        await undo();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 0) Deno.removeSync(this.root, { recursive: true });
    if (errors.length > 0) throw new AggregateError(errors, "cleaning up mounts failed");
  }
}

/** The daemon's pid that status reports, asserting that status exits 0. */
async function statusPid(sb: Sandbox, o: object): Promise<number | null> {
  const out = await sb.run(["status", "--json"], o);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  return JSON.parse(out.stdout).pid;
}

/**
 * A daemon with its pidfile and log in `dir`: status names its pid, reload
 * reaches it, restart and stop end it. With --allow-all the launcher reads
 * the proof itself; with narrow flags it reads it through /bin/sh.
 */
async function exercise(sb: Sandbox, dir: string): Promise<void> {
  const options = { pidFile: `${dir}/app.pid`, logFile: `${dir}/app.log` };
  const all = { options };
  const narrow = {
    options,
    denoFlags: [
      "--allow-env",
      `--allow-read=${sb.dir},${dir}`,
      `--allow-write=${sb.dir},${dir}`,
      `--allow-run=/bin/sh,${Deno.execPath()}`,
    ],
  };

  const first = await sb.start(all);
  assert.equal(await statusPid(sb, all), first, "status (--allow-all) names the daemon's pid");
  assert.equal(await statusPid(sb, narrow), first, "status (narrow) names the daemon's pid");
  const reload = await sb.run(["reload"], all);
  assert.equal(reload.code, 0, reload.stderr);
  await waitFor("the reload to reach the daemon", () => {
    return Deno.readTextFileSync(options.logFile).includes("onReload called");
  });

  const restart = await sb.run(["restart"], all);
  assert.equal(restart.code, 0, restart.stderr);
  assert.equal(isAlive(first), false, "restart stopped the first daemon");
  const second = Number(/started \S+ \(pid (\d+)\)/.exec(restart.stdout)?.[1]);
  assert.ok(isAlive(second), restart.stdout);

  const stop = await sb.run(["stop"], narrow);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(isAlive(second), false, "stop (narrow) stopped the second daemon");
  assert.equal((await sb.run(["status"], all)).code, 3, "status: not running");
}

function fsTest(name: string, why: string | null, fn: (m: Mounts) => Promise<void>): void {
  Deno.test({
    name: why === null ? name : `${name} [ignored: ${why}]`,
    ignore: why !== null,
    fn: async () => {
      await using m = new Mounts();
      await fn(m);
    },
  });
}

fsTest(
  "ext4: status names the daemon, reload and stop reach it",
  blockerFor("ext4", "mkfs.ext4"),
  async (m) => {
    await using sb = new Sandbox();
    await exercise(sb, m.image("ext4", "64M", "mkfs.ext4", ["-q", "-F"]));
  },
);

fsTest(
  "xfs: status names the daemon, reload and stop reach it",
  blockerFor("xfs", "mkfs.xfs"),
  async (m) => {
    await using sb = new Sandbox();
    await exercise(sb, m.image("xfs", "320M", "mkfs.xfs", ["-q"]));
  },
);

fsTest(
  "tmpfs: status names the daemon, reload and stop reach it",
  blockerFor("tmpfs", null),
  async (m) => {
    await using sb = new Sandbox();
    await exercise(sb, m.tmpfs("tmpfs"));
  },
);

fsTest(
  "btrfs, top level and a subvolume: status names the daemon, reload and stop reach it",
  blockerFor("btrfs", "mkfs.btrfs"),
  async (m) => {
    const top = m.image("btrfs", "256M", "mkfs.btrfs", ["-q"]);
    must(tool("btrfs") ?? "btrfs", ["subvolume", "create", `${top}/sub`]);
    await using sb = new Sandbox();
    await exercise(sb, top);
    await exercise(sb, `${top}/sub`);
  },
);

fsTest(
  "overlayfs (upper on a tmpfs, lower on disk): status names the daemon, reload and stop reach it",
  blockerFor("overlay", null),
  async (m) => {
    const lower = m.dir("lower");
    // A pidfile left in the lower layer is copied up when the daemon opens it.
    Deno.mkdirSync(`${lower}/old`);
    Deno.writeTextFileSync(`${lower}/old/app.pid`, "12345\n");
    const merged = m.overlay("merged", lower, m.tmpfs("upper"));
    await using sb = new Sandbox();
    await exercise(sb, merged);
    await exercise(sb, `${merged}/old`);
  },
);
