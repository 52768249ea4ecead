// No controlling terminal, ever: not when the daemon opens a terminal
// itself, not when it was started from one that then goes away.

import assert from "node:assert/strict";
import { isAlive, processesWith, Sandbox, statOf, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

/** tty_nr of every process of the sandbox (the keeper's shells included). */
function ttys(sb: Sandbox): Record<number, number> {
  return Object.fromEntries(
    processesWith(sb.marker, true).map((pid) => [pid, Number(statOf(pid)[4])]),
  );
}

// Holds a pty's master: prints the slave's path, then on "intr" types ^C
// and says whether the line discipline echoed it (so it was processed).
const PTY = `
import os, pty, select, sys
master, slave = pty.openpty()
print(os.ttyname(slave), flush=True)
for line in sys.stdin:
    os.write(master, b"\\x03")
    seen = b""
    while b"^C" not in seen and select.select([master], [], [], 3)[0]:
        seen += os.read(master, 100)
    print("echoed" if b"^C" in seen else "silent", flush=True)
`;

Deno.test("a daemon that opens a pty: it never becomes its controlling terminal; ^C on it stops nothing", async () => {
  await using sb = new Sandbox();
  const holder = new Deno.Command("python3", {
    args: ["-c", PTY],
    env: sb.envMarker(),
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  sb.extraPids.push(holder.pid);
  const lines = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const nextLine = async () => {
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await lines.read();
      if (done) break;
      text += value;
    }
    return text.trim();
  };
  const input = holder.stdin.getWriter();
  try {
    const tty = await nextLine();
    assert.match(tty, /^\/dev\/pts\/\d+$/);
    const o = { behavior: "open-tty", env: { FIXTURE_TTY: tty } };
    const pid = await sb.start(o);
    await waitFor("the daemon to open the pty", () => sb.exists("tty-opened"));
    const [main] = processesWith(sb.marker);
    const fds = [...Deno.readDirSync(`/proc/${main}/fd`)].map((fd) =>
      Deno.readLinkSync(`/proc/${main}/fd/${fd.name}`)
    );
    assert.ok(fds.includes(tty), "the daemon holds the pty open");
    for (const [p, nr] of Object.entries(ttys(sb))) {
      assert.equal(nr, 0, `pid ${p} has no controlling terminal`);
    }

    await input.write(new TextEncoder().encode("intr\n"));
    assert.equal(await nextLine(), "echoed", "the pty processed ^C");
    // A SIGHUP sent after the ^C was processed; once it is handled, a SIGINT
    // from the ^C would have been too.
    assert.equal((await sb.run(["reload"], o)).code, 0);
    await waitFor("the reload", () => sb.readLog().includes("reload: SIGHUP"));
    assert.ok(isAlive(main));
    assert.doesNotMatch(sb.readLog(), /stopping|exiting/);
    const status = JSON.parse((await sb.run(["status", "--json"], o)).stdout);
    assert.equal(status.pid, pid);
    assert.equal((await sb.run(["stop"], o)).code, 0);
    figure("terminal.pty.tty_nr", 0);
  } finally {
    await input.close().catch(() => {});
    await holder.status;
  }
});

const tmux = new Deno.Command("sh", { args: ["-c", "command -v tmux"], stdout: "null" })
  .outputSync().success;

Deno.test({
  name:
    "start from inside tmux, then kill the tmux server: the daemon lives on, without a terminal" +
    (tmux ? "" : " (ignored: tmux is not installed; .ci/run installs it)"),
  ignore: !tmux,
  fn: async () => {
    await using sb = new Sandbox();
    const socket = sb.path("tmux.sock");
    const tmux = (...args: string[]) =>
      new Deno.Command("tmux", {
        args: ["-S", socket, "-f", "/dev/null", ...args],
        cwd: sb.dir,
        env: { ...sb.envMarker(), FIXTURE_BEHAVIOR: "idle", FIXTURE_OPTIONS: "{}", TERM: "xterm" },
        stdin: "null",
      }).output();
    const app = new URL("../fixtures/app.ts", import.meta.url).pathname;
    const shell = `'${Deno.execPath()}' run -A '${app}' start > started.txt 2>&1; exec sleep 1000`;
    assert.equal((await tmux("new-session", "-d", "-s", "t", shell)).code, 0);
    const server = Number(
      new TextDecoder().decode((await tmux("display-message", "-p", "#{pid}")).stdout),
    );
    sb.extraPids.push(server);
    const pid = await waitFor("the daemon started from tmux", () => {
      try {
        return Number(
          /started fx \(pid (\d+)\)/.exec(Deno.readTextFileSync(sb.path("started.txt")))?.[1],
        );
      } catch {
        return 0;
      }
    }, 10_000);
    // The pane's shell has the terminal; the daemon's processes have none.
    const pane = Object.entries(ttys(sb)).filter(([, nr]) => nr !== 0).map(([p]) => Number(p));
    assert.ok(pane.length > 0, "the pane's shell runs on the tmux terminal");
    const [main] = processesWith(sb.marker).filter((p) => !pane.includes(p) && p !== server);
    assert.equal(Number(statOf(main)[4]), 0);
    assert.equal(Number(statOf(pid)[4]), 0);

    await tmux("kill-server");
    await waitFor(
      "the tmux server and its pane to be gone",
      () => !isAlive(server) && pane.every((p) => !isAlive(p)),
    );
    const status = JSON.parse((await sb.run(["status", "--json"])).stdout);
    assert.equal(status.running, true);
    assert.equal(status.pid, pid);
    assert.ok(isAlive(main));
    assert.doesNotMatch(sb.readLog(), /stopping|exiting|reload/);
    assert.equal((await sb.run(["stop"])).code, 0);
  },
});
