// Regression tests for what a hostile review of the keeper found (each
// reproduced on the code before its fix): a stop that reached the caller's
// process group, a group member's pidfile taking the daemon's place, a
// started daemon notifying its caller's service manager, a crashed main's
// children left behind, raw lines that tore log records, start as PID 1,
// SIGTRAP, a silent stop during the restart wait, and a terminal that hangs
// up under run.

import assert from "node:assert/strict";
import { isAlive, processesWith, Sandbox, statOf, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const root = Deno.uid() === 0;

function spawn(cmd: string, args: string[], o: Deno.CommandOptions = {}): Deno.ChildProcess {
  return new Deno.Command(cmd, { stdin: "null", stdout: "piped", stderr: "piped", ...o, args })
    .spawn();
}

function kill(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

Deno.test("stop of a daemon run in the foreground never signals the caller's own process group", async () => {
  await using sb = new Sandbox();
  const fixture = new URL("../fixtures/app.ts", import.meta.url).pathname;
  // A wrapper in its own session (a container entrypoint, a tmux pane, a cron
  // job): it starts a sibling, runs the daemon in the foreground, then
  // carries on after it.
  const wrapper = spawn("setsid", [
    "sh",
    "-c",
    `sleep 300 & echo $! > sibling.pid; "$0" run -A "$1" run >run.out 2>&1; echo continued > after.txt`,
    Deno.execPath(),
    fixture,
  ], { cwd: sb.dir, env: { ...sb.envMarker(), FIXTURE_OPTIONS: "{}" } });
  const sibling = Number(await waitFor("the sibling", () => sb.readLog("sibling.pid").trim()));
  try {
    await waitFor("the foreground daemon", () => sb.readLog().includes("started fx"));
    const daemon = Number(Deno.readTextFileSync(sb.pidFile).trim());
    assert.equal(statOf(daemon)[3], statOf(sibling)[3], "one session: the wrapper's");
    const stop = await sb.run(["stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    await waitFor("the wrapper to carry on", () => sb.readLog("after.txt") === "continued\n");
    assert.ok(isAlive(sibling), "the wrapper's other child was not signalled");
    assert.equal((await wrapper.status).code, 0);
  } finally {
    kill(sibling);
    kill(wrapper.pid);
    await wrapper.output().catch(() => {});
  }
});

Deno.test({
  name:
    `a group member's own locked pidfile put in the daemon's place is removed; status, start and stop reach the real daemon${
      root ? "" : " (ignored: needs root to act as another user)"
    }`,
  ignore: !root,
  fn: async () => {
    await using sb = new Sandbox();
    const dir = sb.path("run");
    Deno.mkdirSync(dir);
    // root:nogroup 2775, and nobody in that group.
    Deno.chmodSync(sb.dir, 0o755);
    Deno.chownSync(dir, 0, 65534);
    Deno.chmodSync(dir, 0o2775);
    const o = { options: { pidFile: `${dir}/app.pid` } };
    const daemon = await sb.start(o);
    const evil = `import os, fcntl, time, sys
tmp = sys.argv[1] + ".evil"
fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b"%d\\n" % os.getpid())
os.rename(tmp, sys.argv[1])
open(sys.argv[1] + ".swapped", "w").close()
time.sleep(60)`;
    const attacker = spawn("setpriv", [
      "--reuid",
      "65534",
      "--regid",
      "65534",
      "--clear-groups",
      "/usr/bin/python3", // a python nobody can run (not a shim in root's home)
      "-c",
      evil,
      `${dir}/app.pid`,
    ]);
    try {
      await waitFor("the swap", () => sb.exists("run/app.pid.swapped"));
      await waitFor(
        "the daemon to restore its pidfile",
        () => sb.readLog().includes("replaced by a file of another user (removed); restored it"),
      );
      assert.ok(isAlive(daemon), "the daemon did not give way");
      assert.equal(Deno.readTextFileSync(`${dir}/app.pid`), `${daemon}\n`);
      assert.equal(Deno.statSync(`${dir}/app.pid`).uid, 0);
      const status = await sb.run(["status", "--json"], o);
      assert.equal(status.code, 0);
      assert.equal(JSON.parse(status.stdout).pid, daemon);
      const start = await sb.run(["start"], o);
      assert.match(start.stdout, new RegExp(`already running \\(pid ${daemon}\\)`));
      const stop = await sb.run(["stop"], o);
      assert.equal(stop.code, 0, stop.stderr);
      assert.equal(isAlive(daemon), false);
      assert.ok(isAlive(attacker.pid), "the other user's process was never signalled");
    } finally {
      kill(attacker.pid);
      await attacker.output();
    }
  },
});

Deno.test("a daemon started under a service manager's NOTIFY_SOCKET never notifies it", async () => {
  await using sb = new Sandbox();
  const socket = sb.path("notify.sock");
  const receiver = spawn("python3", [
    "-c",
    `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
print("bound", flush=True)
while True: print("GOT", s.recv(4096).decode(), flush=True)`,
    socket,
  ]);
  try {
    await waitFor("the receiver", () => sb.exists("notify.sock"));
    const o = {
      options: { denoArgs: ["--unstable-net"] },
      env: { NOTIFY_SOCKET: socket },
    };
    const pid = await sb.start(o);
    assert.ok(isAlive(pid));
    assert.equal((await sb.run(["stop"], o)).code, 0);
    // The daemon is gone: anything it sent has arrived.
    kill(receiver.pid);
    const said = new TextDecoder().decode((await receiver.output()).stdout);
    assert.equal(said, "bound\n", "no READY=1 or STOPPING=1 from the daemon");
  } finally {
    kill(receiver.pid);
  }
});

for (const restart of ["never", "on-failure"]) {
  Deno.test(`children of a main that crashes are ended by its keeper (restart: ${restart})`, async () => {
    await using sb = new Sandbox();
    const o = {
      behavior: "spawn-then-crash",
      options: { restart, maxRestarts: 2, restartDelay: 20, stopTimeout: 1000 },
    };
    await sb.start(o);
    await waitFor(
      "the daemon to be over",
      () => processesWith(sb.marker, true).length === 0,
      15_000,
    );
    const helpers = [...sb.readLog().matchAll(/helper (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(helpers.length, restart === "never" ? 1 : 3);
    for (const pid of helpers) assert.equal(isAlive(pid), false, `helper ${pid} was ended`);
    assert.match(sb.readLog(), /ending what fx left behind: pids \d+/);
    figure(`review.leftovers.${restart}`, helpers.length);
  });
}

Deno.test("a raw line longer than 8 KiB is cut into whole lines and never tears a log record", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "long-raw-lines" });
  await waitFor("the child's end", () => sb.readLog().includes("fx: child done"), 30_000);
  assert.equal((await sb.run(["stop"])).code, 0);
  const record = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[[A-Z]{3}\] [^ ]+: /;
  const lines = sb.readLog().split("\n").slice(0, -1);
  let raw = "";
  for (const line of lines) {
    if (record.test(line)) {
      assert.doesNotMatch(line.slice(30), /\d{4}-\d\d-\d\d \d\d:/, "one record per line");
      continue;
    }
    assert.ok(line.length <= 8000, `a raw piece of ${line.length} bytes`);
    assert.doesNotMatch(line, /\[INF\]/, "no record inside raw output");
    raw += line;
  }
  const whole = raw.match(/long line \d+ x+ END/g) ?? [];
  assert.equal(whole.length, 20, "every raw line whole once its pieces are joined");
  for (const line of whole) assert.equal(line.length, "long line 00 ".length + 30_000 + 4);
});

Deno.test({
  name: `start from PID 1 of a pid namespace is refused: its daemon would die with it${
    root ? "" : " (ignored: needs root for unshare)"
  }`,
  ignore: !root,
  fn: async () => {
    await using sb = new Sandbox();
    const fixture = new URL("../fixtures/app.ts", import.meta.url).pathname;
    const out = await new Deno.Command("unshare", {
      args: ["--pid", "--fork", "--mount-proc", Deno.execPath(), "run", "-A", fixture, "start"],
      cwd: sb.dir,
      env: { ...sb.envMarker(), FIXTURE_OPTIONS: "{}" },
    }).output();
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), /cannot be started from PID 1.*use "run"/);
    assert.equal(sb.exists("app.pid"), false);
  },
});

Deno.test("SIGTRAP is logged and ignored, not a silent death", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  Deno.kill(pid, "SIGTRAP");
  await waitFor("the log line", () => sb.readLog().includes("SIGTRAP received and ignored"));
  assert.ok(isAlive(pid));
  assert.equal((await sb.run(["stop"])).code, 0);
});

Deno.test("a stop during the keeper's wait before a restart is logged as the reason it ended", async () => {
  await using sb = new Sandbox();
  const o = {
    behavior: "crash-after",
    env: { FIXTURE_CRASH_MS: "100" },
    options: { restart: "on-failure", restartDelay: 5000 },
  };
  await sb.start(o);
  await waitFor("the wait", () => sb.readLog().includes("restart 1 in 5000 ms"));
  assert.equal((await sb.run(["stop"], o)).code, 0);
  assert.match(
    sb.readLog().trimEnd().split("\n").at(-1)!,
    /exiting: stopped during the wait before restart 1; fx does not start again/,
  );
});

Deno.test("under run at a terminal, the terminal hanging up ends the daemon, with the reason", async () => {
  await using sb = new Sandbox();
  const fixture = new URL("../fixtures/app.ts", import.meta.url).pathname;
  // python3's pty.fork(): the daemon runs on a pty as a session leader, as in
  // a terminal window; closing the master side is the terminal going away.
  const pty = spawn("python3", [
    "-c",
    `import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", "-A", sys.argv[2], "run"])
print(pid, flush=True)
sys.stdin.read()
os.close(fd)
time.sleep(30)`,
    Deno.execPath(),
    fixture,
  ], { cwd: sb.dir, env: { ...sb.envMarker(), FIXTURE_OPTIONS: "{}" }, stdin: "piped" });
  try {
    await waitFor("the daemon at the terminal", () => sb.readLog().includes("started fx"));
    pty.stdin.close(); // the terminal goes away
    await waitFor("its end", () => /exiting: stopped by SIGHUP/.test(sb.readLog()));
    assert.match(sb.readLog(), /stopping: SIGHUP \(the terminal hung up\)/);
    assert.doesNotMatch(sb.readLog(), /reload: SIGHUP/);
  } finally {
    kill(pty.pid);
    await pty.output();
  }
});
