// SIGINT / SIGTERM to the starting process at random moments leave either a
// running, ready daemon or nothing.

import assert from "node:assert/strict";
import { isAlive, processesWith, procState, Sandbox, statOf, waitFor } from "../_helpers.ts";
import { figure, seededTest } from "./_seed.ts";

const TRIALS = 20;

seededTest(
  `SIGINT/SIGTERM to start at random moments (${TRIALS} trials): a ready daemon or nothing`,
  async (random) => {
    await using sb = new Sandbox();
    let running = 0;
    let nothing = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const signal = trial % 2 === 0 ? "SIGINT" : "SIGTERM";
      const launcher = sb.command(["start"]).spawn();
      await new Promise((r) => setTimeout(r, Math.floor(random() * 120)));
      try {
        launcher.kill(signal);
      } catch { /* already done */ }
      await launcher.output();
      // Settle: whatever the launcher left either becomes a ready daemon or goes away.
      const outcome = await waitFor(`trial ${trial} to settle`, async () => {
        const status = await sb.run(["status", "--json"]);
        const left = processesWith(sb.marker);
        if (status.code === 0) {
          const { pid } = JSON.parse(status.stdout);
          const ready = sb.readLog().includes(`started fx (pid ${pid})`);
          return ready && left.length === 1 && left[0] === pid ? { pid } : null;
        }
        return left.length === 0 && status.code === 3 ? { pid: null } : null;
      });
      if (outcome.pid === null) {
        nothing++;
        continue;
      }
      running++;
      assert.ok(isAlive(outcome.pid));
      assert.equal((await sb.run(["stop"])).code, 0);
    }
    assert.equal(running + nothing, TRIALS);
    figure("signals.trials", TRIALS);
    figure("signals.outcomes", { running, nothing });
  },
);

// Signals to the running daemon, early (within 500 ms of start returning,
// which it does once the daemon is ready) and late. "Late" is a matter of
// time itself: Deno arms its own SIGUSR1 handler some hundreds of
// milliseconds after boot, so the late cases wait for the daemon's age.
const EARLY_MS = 500;
const LATE_MS = 1200;

/** Signals whose default would end the daemon: logged and ignored. */
const STRAY = [
  "SIGUSR2",
  "SIGALRM",
  "SIGVTALRM",
  "SIGPROF",
  "SIGIO",
  "SIGPWR",
  "SIGSTKFLT",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGABRT",
  "SIGTRAP",
  "SIGSYS",
] as const;

/** Milliseconds since process `pid` started, from /proc. */
function ageMs(pid: number): number {
  const fields = statOf(pid);
  const ticks = Number(fields[19]); // starttime, field 22 of /proc/PID/stat
  const uptime = Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
  return uptime * 1000 - ticks * 10; // USER_HZ is 100 on Linux
}

async function late(pid: number): Promise<void> {
  await waitFor(`pid ${pid} to be ${LATE_MS} ms old`, () => ageMs(pid) >= LATE_MS, LATE_MS + 1000);
}

/** Inodes of sockets listening on 127.0.0.1:9229 (0100007F:240D), from /proc/net/tcp. */
function inspectorSockets(): string[] {
  return Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1).map((l) =>
    l.trim().split(/\s+/)
  )
    .filter((f) => f[1] === "0100007F:240D" && f[3] === "0A").map((f) => f[9]);
}

/** Whether process `pid` has a socket listening on 127.0.0.1:9229. */
function inspectorOpen(pid: number): boolean {
  const sockets = inspectorSockets();
  if (sockets.length === 0) return false;
  try {
    return [...Deno.readDirSync(`/proc/${pid}/fd`)].some((fd) => {
      try {
        const link = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
        return sockets.some((inode) => link === `socket:[${inode}]`);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** The sockets process `pid` has open (`socket:[inode]`). */
function socketsOf(pid: number): string[] {
  const found: string[] = [];
  try {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        const link = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
        if (link.startsWith("socket:")) found.push(link);
      } catch { /* closed meanwhile */ }
    }
  } catch { /* gone */ }
  return found;
}

interface Watch {
  /** How long `pid` had a socket it did not have before, first sighting to last. */
  socketMs: number;
  /** Reads of /proc/net/tcp that found something listening on 127.0.0.1:9229. */
  listening: number;
  tcpReads: number;
  fdReads: number;
}

/**
 * Watches process `pid` for `ms` after a SIGUSR1: its descriptors without
 * pause (an inspector closed at once is open for a few milliseconds), and
 * /proc/net/tcp every `tcpEveryMs` (each read costs the kernel about 5 ms
 * here, long enough to miss such an inspector altogether).
 */
function watchInspector(pid: number, before: string[], ms: number, tcpEveryMs = 10): Watch {
  const end = performance.now() + ms;
  const w: Watch = { socketMs: 0, listening: 0, tcpReads: 0, fdReads: 0 };
  let first: number | null = null;
  let previous = performance.now();
  let nextTcp = performance.now() + tcpEveryMs;
  while (performance.now() < end) {
    const fresh = socketsOf(pid).some((s) => !before.includes(s));
    const now = performance.now();
    w.fdReads++;
    if (fresh) {
      first ??= previous;
      w.socketMs = now - first;
    }
    previous = now;
    if (now >= nextTcp) {
      if (Deno.readTextFileSync("/proc/net/tcp").includes(":240D 00000000:0000 0A")) w.listening++;
      w.tcpReads++;
      nextTcp = performance.now() + tcpEveryMs;
    }
  }
  return w;
}

// Deno's update check opens sockets (a DNS lookup) about 0.5 s after boot;
// turned off so that any new socket of the daemon's is the inspector's.
const QUIET = { env: { DENO_NO_UPDATE_CHECK: "1" } };

function sigCount(log: string, signal: string): number {
  return log.split(`${signal} received and ignored`).length - 1;
}

/** Waits for every stray signal to be logged `times` times; says which were not. */
async function loggedEach(sb: Sandbox, times: number, main: number): Promise<void> {
  try {
    await waitFor(`each logged ${times} time(s)`, () => {
      const log = sb.readLog();
      return STRAY.every((s) => sigCount(log, s) === times);
    });
  } catch (err) {
    const log = sb.readLog();
    const missing = STRAY.filter((s) => sigCount(log, s) !== times);
    throw new Error(
      `${(err as Error).message}: not ${times}: ${missing}; daemon alive: ${isAlive(main)}\n${log}`,
    );
  }
}

for (const keeper of [false, true]) {
  Deno.test(`stray signals${keeper ? " to the keeper" : ""}, early and late: each logged and ignored; the daemon stops cleanly after`, async () => {
    await using sb = new Sandbox();
    const o = { options: keeper ? { restart: "on-failure" } : {} };
    const pid = await sb.start(o);
    const started = performance.now();
    const [main] = processesWith(sb.marker);
    // The pidfile's pid: the daemon, or its keeper, which passes them on.
    for (const signal of STRAY) Deno.kill(pid, signal);
    const sentMs = performance.now() - started;
    assert.ok(sentMs < EARLY_MS, `sent early (${sentMs} ms after start returned)`);
    await loggedEach(sb, 1, main);
    await late(main);
    for (const signal of STRAY) Deno.kill(pid, signal);
    await loggedEach(sb, 2, main);
    assert.ok(isAlive(main) && isAlive(pid));
    const status = JSON.parse((await sb.run(["status", "--json"], o)).stdout);
    assert.equal(status.pid, pid);
    assert.equal(keeper ? status.restarts : 0, 0, "the program was never restarted");
    const stop = JSON.parse((await sb.run(["stop", "--json"], o)).stdout);
    assert.equal(stop.killed, false);
    assert.match(sb.readLog(), /exiting: stopped by SIGTERM \(exit code 0\)\n$/);
    figure(`signals.stray${keeper ? ".keeper" : ""}.early_sent_ms`, Math.round(sentMs));
  });
}

Deno.test("SIGTERM, SIGINT and SIGQUIT, early and late: the daemon stops, says why, removes its pidfile", async () => {
  const cases = ["SIGTERM", "SIGINT", "SIGQUIT"].flatMap((s) => [[s, "early"], [s, "late"]]);
  await Promise.all(cases.map(async ([signal, when]) => {
    await using sb = new Sandbox();
    const pid = await sb.start();
    if (when === "late") await late(pid);
    Deno.kill(pid, signal as Deno.Signal);
    await waitFor(`the daemon to end on ${signal}`, () => !isAlive(pid));
    assert.match(
      sb.readLog(),
      new RegExp(`stopping: ${signal}\n[^]*exiting: stopped by ${signal} \\(exit code 0\\)\n$`),
      `${signal} ${when}`,
    );
    assert.equal(sb.exists("app.pid"), false, `${signal} ${when}: pidfile removed`);
    assert.equal((await sb.run(["status"])).code, 3);
  }));
});

for (const when of ["early", "late"] as const) {
  Deno.test(`SIGUSR1 ${when}: no debugger port opens, the daemon lives and its log says so`, async () => {
    await using sb = new Sandbox();
    const pid = await sb.start(QUIET);
    if (when === "late") await late(pid);
    const before = socketsOf(pid);
    Deno.kill(pid, "SIGUSR1");
    const w = watchInspector(pid, before, 1000);
    assert.ok(w.tcpReads > 20 && w.fdReads > 100, JSON.stringify(w));
    assert.equal(w.listening, 0, "nothing listened on 127.0.0.1:9229");
    assert.equal(w.socketMs, 0, "the daemon opened no socket");
    await waitFor("the log to say so", () => /SIGUSR1 received and ignored/.test(sb.readLog()));
    assert.ok(isAlive(pid));
    assert.equal((await sb.run(["status"])).code, 0);
    assert.equal((await sb.run(["stop"])).code, 0);
  });
}

Deno.test('SIGUSR1 with sigusr1: "inspector": Deno opens the inspector, as asked', async () => {
  await using sb = new Sandbox();
  const o = { options: { sigusr1: "inspector" } };
  const pid = await sb.start(o);
  await late(pid);
  Deno.kill(pid, "SIGUSR1");
  await waitFor("the inspector to listen", () => inspectorOpen(pid), 3000);
  assert.match(sb.readLog(), /SIGUSR1: Deno opens the V8 inspector/);
  const stop = JSON.parse((await sb.run(["stop", "--json"], o)).stdout);
  assert.equal(stop.killed, false);
  assert.deepEqual(inspectorSockets().filter(() => isAlive(pid)), []);
});

for (const when of ["early", "late"] as const) {
  Deno.test(`SIGUSR1 to \`run\` (foreground), ${when}: the inspector, if Deno opens it, is closed at once`, async () => {
    await using sb = new Sandbox();
    const child = await sb.foreground(QUIET);
    // Early, Deno has not armed its own SIGUSR1 handler yet: nothing opens.
    // Late, it opens the inspector, and the daemon's listener closes it.
    if (when === "late") await late(child.pid);
    const before = socketsOf(child.pid);
    Deno.kill(child.pid, "SIGUSR1");
    const w = watchInspector(child.pid, before, 1000, Infinity);
    assert.deepEqual(socketsOf(child.pid), before, "no socket left open");
    assert.equal(inspectorOpen(child.pid), false);
    await waitFor("the log to say so", () => /SIGUSR1 received and ignored/.test(sb.readLog()));
    // The log's two lines bound the time it was open from above; the
    // socket, when a sample caught it (it may not), from below.
    let loggedMs: number | null = null;
    if (when === "late") {
      const log = await waitFor("the log to say it closed the inspector", () => {
        const log = sb.readLog();
        return log.includes("closed the V8 inspector Deno had opened") ? log : null;
      });
      const at = (text: string) =>
        Date.parse(
          new RegExp(`^(\\S+) (\\S+) \\+00:00 .*${text}`, "m").exec(log)!.slice(1).join("T") + "Z",
        );
      loggedMs = at("closed the V8 inspector") - at("SIGUSR1 received and ignored");
      assert.ok(loggedMs < 1000, `closed ${loggedMs} ms after the signal`);
    }
    assert.ok(w.socketMs < 1000, `open for ${w.socketMs} ms`);
    assert.ok(isAlive(child.pid), "still running");
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    figure(`signals.usr1.run.${when}`, {
      seenOpenMs: Math.round(w.socketMs * 10) / 10,
      signalToClosedLoggedMs: loggedMs,
    });
  });
}

// A parent that blocks SIGTERM and SIGHUP and ignores SIGHUP and SIGQUIT
// (as `nohup` and some supervisors leave them), then execs the command.
const HOSTILE_PARENT = `
import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP})
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGQUIT, signal.SIG_IGN)
os.execvp(sys.argv[1], sys.argv[1:])
`;

/** SigBlk and SigIgn of `pid` (or of "self"), as numbers. */
function masks(status: string): { blocked: bigint; ignored: bigint } {
  const field = (name: string) =>
    BigInt("0x" + new RegExp(`^${name}:\\s*(\\w+)$`, "m").exec(status)![1]);
  return { blocked: field("SigBlk"), ignored: field("SigIgn") };
}

const HUP = 1n << 0n;
const QUIT = 1n << 2n;
const USR1 = 1n << 9n;
const TERM = 1n << 14n;

for (const keeper of [false, true]) {
  Deno.test(`a start whose parent blocked TERM and HUP and ignored HUP and QUIT${keeper ? " (keeper)" : ""}: the daemon has a clean signal state; reload and stop work`, async () => {
    await using sb = new Sandbox();
    const o = { options: keeper ? { restart: "on-failure" } : {} };
    const hostile = (args: string[]) =>
      new Deno.Command("python3", {
        args: ["-c", HOSTILE_PARENT, ...args],
        cwd: sb.dir,
        env: sb.fixtureEnv(o),
        stdin: "null",
      }).output();
    // The parent really hands that state down.
    const cat = await hostile(["cat", "/proc/self/status"]);
    const given = masks(new TextDecoder().decode(cat.stdout));
    assert.equal(given.blocked & (TERM | HUP), TERM | HUP);
    assert.equal(given.ignored & (HUP | QUIT), HUP | QUIT);

    const app = new URL("../fixtures/app.ts", import.meta.url).pathname;
    const start = await hostile([Deno.execPath(), "run", "-A", app, "start"]);
    assert.equal(start.code, 0, new TextDecoder().decode(start.stderr));
    const [main] = processesWith(sb.marker);
    const state = masks(Deno.readTextFileSync(`/proc/${main}/status`));
    assert.equal(
      state.blocked & ~USR1,
      0n,
      `SigBlk ${state.blocked.toString(16)}: only USR1 may be blocked`,
    );
    assert.equal(state.ignored & (HUP | QUIT | TERM), 0n, `SigIgn ${state.ignored.toString(16)}`);

    const reload = await sb.run(["reload"], o);
    assert.equal(reload.code, 0, reload.stderr);
    await waitFor("onReload to run", () => sb.readLog().includes("onReload called"));
    const stop = JSON.parse((await sb.run(["stop", "--json"], o)).stdout);
    assert.equal(stop.killed, false, "ended by SIGTERM, not SIGKILL");
    assert.match(
      sb.readLog(),
      /stopping: SIGTERM\n[^]*exiting: stopped by SIGTERM \(exit code 0\)\n$/,
    );
    figure(
      `signals.hostile_parent${keeper ? ".keeper" : ""}`,
      { SigBlk: state.blocked.toString(16), SigIgn: state.ignored.toString(16) },
    );
  });
}

Deno.test("a stray signal the moment start has heard ready: logged and ignored, not a death", async () => {
  await using sb = new Sandbox();
  // The daemon stops itself right after it has told the launcher it is ready.
  const pid = await sb.start({ env: { FIXTURE_FAULT: "daemon-after-ready" } });
  await waitFor("the daemon stopped after ready", () => procState(pid) === "T");
  for (const signal of STRAY) Deno.kill(pid, signal);
  Deno.kill(pid, "SIGCONT");
  await loggedEach(sb, 1, pid);
  assert.ok(isAlive(pid));
  assert.equal((await sb.run(["stop"])).code, 0);
});
