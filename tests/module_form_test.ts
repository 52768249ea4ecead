// The module form, daemonize(new URL("./server.ts", import.meta.url)): the
// commands never import the main module; the daemon and `run` do, and a
// module that does not hold a main is a clean BAD_OPTION at start.

import assert from "node:assert/strict";
import { Daemon } from "../mod.ts";
import { toTarget } from "../lib/decorator.ts";
import { DaemonError } from "../lib/errors.ts";
import { environOf, isAlive, processesWith, procState, Sandbox, waitFor } from "./_helpers.ts";

const APP = "module/app.ts";

/** The pids that have loaded the main module, in order. */
function loaders(sb: Sandbox): number[] {
  return sb.readLog("loaded").split("\n").filter((l) => l !== "").map(Number);
}

Deno.test("module form: start, status, reload, logs, stop and restart never load the main module; the daemon does", async () => {
  await using sb = new Sandbox();
  const run = (args: string[]) => sb.run(args, { script: APP });

  assert.equal((await run(["status"])).code, 3);
  const controller = new Daemon({ module: new URL(`./fixtures/${APP}`, import.meta.url) });
  assert.equal((await controller.options()).name, "mod");
  assert.equal(sb.exists("loaded"), false, "status and a controller's look loaded the module");

  const pid = await sb.start({ script: APP });
  assert.deepEqual(loaders(sb), [pid], "the daemon loads the module once, itself");
  await waitFor("main's line", () => sb.readLog().includes(`mod·server: server up in ${pid}`));

  for (const command of [["status"], ["reload"], ["logs", "-n", "1"]]) {
    const out = await run(command);
    assert.equal(out.code, 0, `${command[0]}: ${out.stderr}`);
  }
  const restarted = await run(["restart"]);
  assert.equal(restarted.code, 0, restarted.stderr);
  const second = Number(/started mod \(pid (\d+)\)/.exec(restarted.stdout)?.[1]);
  assert.equal(isAlive(pid), false);
  const stop = await run(["stop"]);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(isAlive(second), false);
  assert.deepEqual(loaders(sb), [pid, second], "only the two daemons loaded the module");
});

Deno.test("module form: run loads the module in the foreground", async () => {
  await using sb = new Sandbox();
  const child = sb.command(["run"], { script: APP }).spawn();
  sb.extraPids.push(child.pid);
  await waitFor("main's line", () => sb.readLog().includes("server up"));
  assert.deepEqual(loaders(sb), [child.pid]);
  child.kill("SIGTERM");
  assert.equal((await child.output()).code, 0);
});

Deno.test("module form: a default-exported class with @daemon() runs, and reloads on SIGHUP", async () => {
  await using sb = new Sandbox();
  const env = { FIXTURE_MODULE: "./service.ts" };
  await sb.start({ script: APP, env });
  await waitFor("the service", () => sb.readLog().includes("service up"));
  assert.equal((await sb.run(["reload"], { script: APP, env })).code, 0);
  await waitFor("the reload", () => sb.readLog().includes("service reloaded"));
  assert.equal((await sb.run(["stop"], { script: APP, env })).code, 0);
});

Deno.test("module form: a module that holds no main is BAD_OPTION at start, one clean line, no daemon left", async () => {
  const cases: [string, RegExp][] = [
    ["./no_default.ts", /no_default\.ts has no default export; export default the main function/],
    ["./not_main.ts", /default export of \S+not_main\.ts is a object, not the main function/],
    [
      "./configured.ts",
      /configured\.ts has @daemon options \(name, logFile\).*give them to daemonize\(\)/,
    ],
    ["./missing.ts", /main module \S+missing\.ts given to daemonize\(\) does not exist/],
    ["./self.ts", /main module \S+self\.ts calls daemonize\(\) itself/],
  ];
  for (const [module, message] of cases) {
    await using sb = new Sandbox();
    const env = { FIXTURE_MODULE: module };
    const out = await sb.run(["start"], { script: APP, env });
    assert.equal(out.code, 1, module);
    assert.match(out.stderr, message);
    assert.doesNotMatch(out.stderr, /^\s+at /m, "no stack");
    const json = await sb.run(["start", "--json"], { script: APP, env });
    assert.equal(JSON.parse(json.stdout).error.code, "BAD_OPTION", module);
    await waitFor("no daemon", () => processesWith(sb.marker, true).length === 0);
    assert.equal(sb.exists("app.pid"), false, `${module}: the pidfile was left`);
    assert.equal(sb.exists("inner.pid"), false, `${module}: it ran a daemon of its own`);
  }
});

Deno.test("module form: only the daemon that holds the lock runs the module's top-level code; a start that loses the race never does", async () => {
  await using sb = new Sandbox();
  // The first start's daemon stops itself just before it takes the lock.
  const first = sb.command(["start"], { script: APP, env: { FIXTURE_FAULT: "daemon-before-lock" } })
    .spawn();
  const held = await waitFor(
    "a daemon held before the lock",
    () =>
      processesWith(sb.marker).find((pid) =>
        procState(pid) === "T" &&
        environOf(pid).split("\0").some((e) => e.startsWith("DAEMONIZE_LAUNCH="))
      ),
  );
  assert.equal(sb.exists("loaded"), false, "the module ran before its daemon held the lock");
  // A second start wins the lock meanwhile; the first then loses it.
  const second = await sb.start({ script: APP });
  Deno.kill(held, "SIGCONT");
  const out = await first.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(
    new TextDecoder().decode(out.stdout),
    new RegExp(`already running \\(pid ${second}\\)`),
  );
  await waitFor("the loser gone", () => !isAlive(held));
  assert.deepEqual(loaders(sb), [second], "only the winner loaded the module");
  assert.equal((await sb.run(["stop"], { script: APP })).code, 0);
});

Deno.test("module form: a module whose top-level code throws is START_FAILED, with where it threw", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { script: APP, env: { FIXTURE_MODULE: "./throws.ts" } });
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /failed to load: Error: no database at startup \(at file:\/\/\S+throws\.ts:3:7\)/,
  );
  // The daemon said it in its log before the launcher heard of it: the tail has it.
  assert.match(
    out.stderr,
    /last lines of \S+app\.log:\n[^]*\[ERR\] daemonize: exiting: the main module \S+ failed to load/,
  );
});

Deno.test("module form, logFormat json: a module that fails to load leaves a JSON line in the log, not a raw one", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], {
    script: APP,
    env: { FIXTURE_MODULE: "./throws.ts", FIXTURE_OPTIONS: JSON.stringify({ logFormat: "json" }) },
  });
  assert.equal(out.code, 1);
  const lines = sb.readLog().trimEnd().split("\n");
  const records = lines.map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`not JSON: ${JSON.stringify(line)}`);
    }
  });
  const last = records.at(-1);
  assert.equal(last.level, "ERROR");
  assert.equal(last.logger, "daemonize");
  assert.match(last.message, /^exiting: the main module \S+ failed to load: Error: no database/);
});

Deno.test("module form: a stop that comes while the module's top-level code runs (readyTimeout shorter than the load) ends the daemon before main: never 'started', no pidfile left", async () => {
  await using sb = new Sandbox();
  const env = {
    FIXTURE_MODULE: "./slow.ts",
    FIXTURE_OPTIONS: JSON.stringify({ readyTimeout: 500, stopTimeout: 5000 }),
  };
  const out = await sb.run(["start"], { script: APP, env });
  assert.equal(out.code, 1, out.stdout);
  assert.match(out.stderr, /did not report ready within 500 ms/);
  const log = sb.readLog();
  assert.match(log, /\[INF\] daemonize: exiting: stopped by SIGTERM before it was ready/, log);
  assert.doesNotMatch(log, /started mod|SIGKILL/, "the daemon went on after the stop");
  assert.equal(sb.exists("main-ran"), false, "main ran after the stop");
  assert.equal(sb.exists("app.pid"), false, "the pidfile was left behind");
  assert.equal((await sb.run(["status"], { script: APP, env })).code, 3);
});

Deno.test("module form: a daemon that may not read its main module is PERMISSION", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["run"], {
    script: APP,
    denoFlags: ["--allow-env", "--allow-write", `--allow-read=${sb.dir}`],
  });
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /may not read its main module \S+server\.ts: importing it needs --allow-read/,
  );
  assert.equal(sb.exists("loaded"), false);
});

Deno.test("toTarget takes a file: URL only; a string gets a hint", () => {
  const url = new URL("file:///srv/server.ts");
  assert.deepEqual(toTarget(url, { name: "api" }), { options: { name: "api" }, module: url });
  const refused = (main: unknown, message: RegExp) =>
    assert.throws(
      () => toTarget(main as never, undefined),
      (e: unknown) =>
        e instanceof DaemonError && e.code === "BAD_OPTION" && message.test(e.message),
    );
  refused(new URL("https://example.com/server.ts"), /as a file: URL.*got https:/);
  refused("./server.ts", /pass new URL\("\.\/server\.ts", import\.meta\.url\)/);
});
