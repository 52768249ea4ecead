// The floor: the least a Deno daemonizer can do. `start` re-executes this
// script detached and returns once the child says it is ready (one line on a
// pipe it writes once, then closes); the child takes the pidfile's flock,
// writes its pid and the ready file; `stop` sends SIGTERM (the bare child has
// no listener, so it dies at once) and waits for the kernel to drop the lock;
// `status` tries the lock. Two Deno boots: nothing built on Deno starts faster.

const encoder = new TextEncoder();

function readAll(file: Deno.FsFile): string {
  const buf = new Uint8Array(64);
  const n = file.readSync(buf) ?? 0;
  return new TextDecoder().decode(buf.subarray(0, n));
}

function openPidFile(path: string): Deno.FsFile | null {
  try {
    return Deno.openSync(path, { read: true });
  } catch {
    return null;
  }
}

/** Runs the command in `Deno.args[0]`; `beforeReady` runs in the daemon just before it is ready. */
export async function floor(
  script: string,
  beforeReady?: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = Deno.env.get("BENCH_DIR") ?? Deno.cwd();
  const pidPath = `${dir}/daemon.pid`;
  switch (Deno.args[0]) {
    case "start": {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, "daemon"],
        detached: true,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const { done } = await child.stdout.getReader().read();
      console.log(done ? "failed" : `started (pid ${child.pid})`);
      Deno.exit(done ? 1 : 0);
      break;
    }
    case "daemon": {
      const file = Deno.openSync(pidPath, { read: true, write: true, create: true });
      if (!file.tryLockSync(true)) Deno.exit(1);
      file.truncateSync(0);
      file.writeSync(encoder.encode(`${Deno.pid}\n`));
      await beforeReady?.(dir);
      Deno.writeTextFileSync(
        `${dir}/ready`,
        `${Deno.pid}\n${performance.timeOrigin} ${performance.now()}\n`,
      );
      Deno.stdout.writeSync(encoder.encode("ready\n"));
      Deno.stdout.close();
      setInterval(() => {}, 1e9);
      break;
    }
    case "stop": {
      const file = openPidFile(pidPath);
      if (file === null || file.tryLockSync(false)) Deno.exit(0);
      Deno.kill(Number(readAll(file)), "SIGTERM");
      await file.lock(false); // granted once the kernel drops the dead daemon's lock
      Deno.removeSync(pidPath);
      break;
    }
    case "status": {
      const file = openPidFile(pidPath);
      Deno.exit(file === null || file.tryLockSync(false) ? 3 : 0);
    }
  }
}
