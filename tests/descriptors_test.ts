// What the daemon inherits and hands down (man 7 daemon, steps 1-4): a
// caller that gives `start` an inheritable pipe and waits for its EOF (as
// ssh sessions, CI runners and $(...) wrappers do) gets it as soon as start
// exits; the daemon holds no descriptor it did not open itself; a child the
// daemon spawns has only 0, 1 and 2, and no variable of the library.

import assert from "node:assert/strict";
import { processesWith, Sandbox, waitFor } from "./_helpers.ts";

const FIXTURE = new URL("./fixtures/app.ts", import.meta.url).pathname;

// The caller: a pipe whose write end goes to `start` at descriptor FD (and
// its stdout and stderr are pipes it reads to the end); it closes its own
// copy and waits, with a deadline, for EOF once start has exited.
const CALLER = String.raw`
import json, os, select, subprocess, sys, time
fd = int(sys.argv[1])
r, w = os.pipe()
if w != fd:
    os.dup2(w, fd)
    os.close(w)
p = subprocess.Popen(sys.argv[2:], pass_fds=(fd,), stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
os.close(fd)
try:
    out, err = p.communicate(timeout=20)
    output_eof = True
except subprocess.TimeoutExpired:
    p.kill()
    out, err = p.communicate()
    output_eof = False
exited = time.monotonic()
ready, _, _ = select.select([r], [], [], 3.0)
eof = bool(ready) and os.read(r, 1) == b""
print(json.dumps({
    "code": p.returncode, "stdout": out.decode(), "stderr": err.decode(),
    "outputEof": output_eof, "eof": eof,
    "eofMs": round((time.monotonic() - exited) * 1000),
    "pipe": "pipe:[%d]" % os.fstat(r).st_ino,
}))
`;

function hasPython(): boolean {
  try {
    return new Deno.Command("python3", { args: ["-c", "pass"] }).outputSync().success;
  } catch {
    return false;
  }
}
const python = Deno.build.os === "linux" && hasPython();
const noPython = python
  ? ""
  : " (ignored: needs Linux and python3, which plays the caller that passes descriptors; .ci/run installs it)";

/** Descriptor number → what it points at, for a live process. */
function descriptors(pid: number): Map<string, string> {
  const fds = new Map<string, string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      fds.set(entry.name, Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
    } catch { /* closed meanwhile */ }
  }
  return fds;
}

/**
 * What a Deno process holds besides its stdio and `own` files, as kinds
 * (`socket`, `anon_inode:[eventfd]`, a file of Deno's cache) with counts.
 */
function denoKinds(pid: number, own: string[]): Map<string, number> {
  const fds = descriptors(pid);
  const stdio = new Set(["0", "1", "2"].map((n) => fds.get(n)));
  const kinds = new Map<string, number>();
  for (const [n, target] of fds) {
    if (["0", "1", "2"].includes(n) || stdio.has(target) || own.includes(target)) continue;
    const kind = /^socket:/.test(target) ? "socket" : target;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return kinds;
}

/**
 * What a plain `deno run` of a script that spawns a child (as the fixture
 * does) and idles holds, started the way a test starts one.
 */
async function idleDenoKinds(sb: Sandbox): Promise<Map<string, number>> {
  const script = sb.path("idle.ts");
  Deno.writeTextFileSync(
    script,
    'Deno.addSignalListener("SIGTERM", () => Deno.exit(0));\n' +
      'new Deno.Command("sleep", { args: ["60"] }).spawn();\n' +
      "setInterval(() => {}, 1000);\n" +
      'await Deno.stdout.write(new TextEncoder().encode("idle\\n"));\n',
  );
  const idle = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    env: sb.envMarker(),
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  sb.extraPids.push(idle.pid);
  const reader = idle.stdout.getReader();
  try {
    await waitFor("the idle Deno to be set up", async () => (await reader.read()).value);
    return denoKinds(idle.pid, []);
  } finally {
    idle.kill("SIGKILL");
    await reader.cancel();
    await idle.status;
  }
}

for (const restart of ["never", "on-failure"]) {
  for (const fd of [5, 50]) {
    Deno.test({
      name:
        `restart ${restart}: a pipe handed to start as fd ${fd} reaches EOF when start exits; the daemon holds only what it opened, its child only 0, 1, 2 and nothing of the library's environment${noPython}`,
      ignore: !python,
      async fn() {
        await using sb = new Sandbox();
        Deno.writeTextFileSync(sb.path("caller.py"), CALLER);
        const out = await new Deno.Command("python3", {
          args: [sb.path("caller.py"), String(fd), Deno.execPath(), "run", "-A", FIXTURE, "start"],
          cwd: sb.dir,
          env: {
            ...sb.envMarker(),
            FIXTURE_BEHAVIOR: "spawn-child",
            FIXTURE_OPTIONS: JSON.stringify({ restart }),
            NO_COLOR: "1",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        const caller = JSON.parse(new TextDecoder().decode(out.stdout));
        assert.equal(caller.code, 0, caller.stderr);
        assert.match(caller.stdout, /^started fx \(pid \d+\)\n$/);
        assert.ok(caller.outputEof, "start's stdout and stderr reached EOF");
        assert.ok(caller.eof, `no EOF on the caller's pipe ${caller.eofMs} ms after start exited`);

        const keeperPid = Number(/\(pid (\d+)\)/.exec(caller.stdout)![1]);
        const childPid = Number(
          await waitFor("the child's pid", () => {
            try {
              return Deno.readTextFileSync(sb.path("child.pid"));
            } catch {
              return null;
            }
          }),
        );
        const daemonPid = Number(Deno.readTextFileSync(`/proc/${childPid}/stat`).split(" ")[3]);
        if (restart === "never") assert.equal(daemonPid, keeperPid);

        // Nothing of ours holds the caller's pipe: not the daemon, its
        // child, nor the keeper shells.
        for (const pid of [...processesWith(sb.marker, true), childPid]) {
          assert.ok(
            ![...descriptors(pid).values()].includes(caller.pipe),
            `pid ${pid} holds the caller's pipe`,
          );
        }

        // The daemon: stdio, its pidfile and log, and what Deno opens itself.
        const own = [sb.pidFile, sb.logFile];
        const daemon = denoKinds(daemonPid, own);
        const idle = await idleDenoKinds(sb);
        for (const [kind, count] of daemon) {
          assert.ok(
            count <= (idle.get(kind) ?? 0),
            `the daemon holds ${count} × ${kind}; a plain deno run holds ${idle.get(kind) ?? 0}\n` +
              `daemon: ${JSON.stringify([...daemon])}\nidle: ${JSON.stringify([...idle])}`,
          );
        }
        const fds = descriptors(daemonPid);
        assert.equal(fds.get("0"), "/dev/null");

        // Its child: 0, 1 and 2, and no DAEMONIZE_ variable.
        assert.deepEqual([...descriptors(childPid).keys()].sort(), ["0", "1", "2"]);
        const environ = Deno.readTextFileSync(`/proc/${childPid}/environ`).split("\0");
        assert.deepEqual(environ.filter((v) => v.startsWith("DAEMONIZE_")), []);
        assert.ok(environ.includes(sb.marker), "the child has the daemon's environment");

        const stop = await sb.run(["stop"], { options: { restart } });
        assert.equal(stop.code, 0, stop.stderr);
      },
    });
  }
}
