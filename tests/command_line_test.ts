// The command line: the library's flags stay with the library, the
// program's arguments go after `--`, a typo is an error, and `--json` means
// one JSON object whatever happens.

import assert from "node:assert/strict";
import { type Invocation, type Mistake, parseCommandLine } from "../lib/_argv.ts";
import { assertDenoVersion, MIN_DENO } from "../lib/_version.ts";
import { DaemonError } from "../mod.ts";
import { type Output, processesWith, Sandbox, waitFor } from "./_helpers.ts";

function parsed(line: string[]): Invocation {
  const out = parseCommandLine(line);
  assert.ok(!("mistake" in out), `${line.join(" ")}: ${"mistake" in out ? out.mistake : ""}`);
  return out;
}

function mistake(line: string[]): Mistake {
  const out = parseCommandLine(line);
  assert.ok("mistake" in out, `${line.join(" ")} should be a mistake`);
  return out;
}

Deno.test("parseCommandLine: flags, -- and the program's arguments", () => {
  assert.deepEqual(parsed(["start", "--json"]), {
    command: "start",
    help: false,
    json: true,
    lines: 10,
    follow: false,
    args: [],
  });
  assert.deepEqual(parsed(["start", "--", "--json", "-h", "x"]).args, ["--json", "-h", "x"]);
  assert.equal(parsed(["start", "--", "--json"]).json, false);
  assert.deepEqual(parsed(["run", "--", "--port", "8080"]).args, ["--port", "8080"]);
  assert.equal(parsed(["run", "--help"]).help, true);
  assert.equal(parsed(["status", "-h"]).help, true);
  assert.equal(parsed(["-h"]).command, null);
  assert.equal(parsed(["logs", "-n", "3"]).lines, 3);
  assert.equal(parsed(["logs", "-n3"]).lines, 3);
  assert.equal(parsed(["logs", "--lines=7", "-f"]).lines, 7);
  assert.equal(parsed(["logs", "--follow"]).follow, true);
  assert.equal(parsed(["stop", "--"]).args.length, 0);
});

Deno.test("parseCommandLine: every unknown word is a mistake, with a suggestion where one is close", () => {
  assert.match(
    mistake(["start", "--jsno"]).mistake,
    /unknown option "--jsno" for start; did you mean "--json"\?/,
  );
  assert.match(mistake(["logs", "--folow"]).mistake, /did you mean "--follow"\?/);
  assert.match(mistake(["status", "--jsno"]).mistake, /did you mean "--json"\?/);
  assert.match(mistake(["start", "8080"]).mistake, /go after "--": start -- 8080/);
  assert.match(mistake(["start", "--port"]).mistake, /go after "--": start -- --port/);
  assert.match(mistake(["stop", "now"]).mistake, /stop takes no arguments/);
  assert.match(mistake(["stop", "--", "x"]).mistake, /stop takes no arguments for the program/);
  assert.match(mistake(["stop", "-f"]).mistake, /-f is for logs, not stop/);
  assert.match(mistake(["run", "--json"]).mistake, /--json is for .*, not run/);
  assert.match(mistake(["logs", "-n", "many"]).mistake, /whole number/);
  assert.match(mistake(["logs", "-n"]).mistake, /whole number/);
  assert.match(mistake(["logs", "-f", "--json"]).mistake, /--json cannot follow/);
  assert.match(mistake(["status", "--json=yes"]).mistake, /--json takes no value/);
  const unknown = mistake(["stauts", "--json"]);
  assert.match(unknown.mistake, /unknown command "stauts"; did you mean "status"\?/);
  assert.equal(unknown.json, true);
  assert.equal(unknown.usage, true);
  assert.equal(mistake([]).usage, true);
  assert.equal(mistake(["--json"]).json, true);
});

Deno.test("the Deno version floor: older is UNSUPPORTED naming the minimum, the rest pass", () => {
  for (const old of ["2.6.8", "2.7.0", "2.4.0", "1.46.3"]) {
    assert.throws(
      () => assertDenoVersion(old),
      (e: unknown) =>
        e instanceof DaemonError && e.code === "UNSUPPORTED" && e.message.includes(MIN_DENO) &&
        e.message.includes(old),
    );
  }
  for (const ok of [MIN_DENO, "2.7.14", "2.9.6", "2.10.0", "3.0.0-rc.1"]) assertDenoVersion(ok);
});

Deno.test("the library's flags never reach the daemon: start --json and restart give it no arguments", async () => {
  await using sb = new Sandbox();
  const start = await sb.run(["start", "--json"], { behavior: "report" });
  assert.equal(start.code, 0, start.stderr);
  const first = JSON.parse(await waitFor("the report", () => sb.readLog("report.json")));
  assert.deepEqual(first.args, []);
  assert.deepEqual(first.argv, [], "Deno.args in the daemon");
  Deno.removeSync(sb.path("report.json"));
  const restart = await sb.run(["restart"], { behavior: "report" });
  assert.equal(restart.code, 0, restart.stderr);
  const second = JSON.parse(await waitFor("the report", () => sb.readLog("report.json")));
  assert.notEqual(second.pid, first.pid);
  assert.deepEqual(second.args, []);
  assert.deepEqual(second.argv, [], "a daemon started by restart does not see `restart`");
  Deno.removeSync(sb.path("report.json"));
  await sb.run(["restart", "--", "--json"], { behavior: "report" });
  const third = JSON.parse(await waitFor("the report", () => sb.readLog("report.json")));
  assert.deepEqual(third.args, ["--json"], "after --, even --json is the program's");
  assert.deepEqual(third.argv, ["--json"]);
  await sb.run(["stop"]);
});

Deno.test("typos are errors: nothing starts, exit 2 (status: 4), with a suggestion", async () => {
  await using sb = new Sandbox();
  const cases: [string[], number, RegExp][] = [
    [["start", "--jsno"], 2, /did you mean "--json"\?/],
    [["start", "8080"], 2, /go after "--": start -- 8080/],
    [["restart", "--port", "1"], 2, /go after "--": restart -- --port/],
    [["logs", "--folow"], 2, /did you mean "--follow"\?/],
    [["status", "--jsno"], 4, /did you mean "--json"\?/],
    [["stop", "--force"], 2, /unknown option "--force" for stop/],
    [["run", "--once"], 2, /go after "--": run -- --once/],
  ];
  for (const [args, code, why] of cases) {
    const out = await sb.run(args);
    assert.equal(out.code, code, args.join(" "));
    assert.match(out.stderr, why, args.join(" "));
    assert.equal(out.stdout, "");
  }
  assert.equal(sb.exists("app.pid"), false, "no daemon started");
  assert.equal(sb.exists("app.log"), false, "run did not run");
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("run --help prints help; run -- --help passes --help to the program", async () => {
  await using sb = new Sandbox();
  const help = await sb.run(["run", "--help"], { behavior: "args" });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage:/);
  assert.equal(sb.exists("args.json"), false, "main did not run");
  const passed = await sb.run(["run", "--", "--help", "--port", "8080"], { behavior: "args" });
  assert.equal(passed.code, 0, passed.stderr);
  const r = JSON.parse(sb.readLog("args.json"));
  assert.deepEqual(r.args, ["--help", "--port", "8080"]);
});

function oneObject(
  out: Output,
  what: string,
): { name: string; error: { code: string; message: string } } {
  const lines = out.stdout.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `${what}: one line on stdout, got ${JSON.stringify(out.stdout)}`);
  return JSON.parse(lines[0]);
}

Deno.test("--json on a failing command: one JSON object with the error, the same exit code", async () => {
  await using sb = new Sandbox();
  const cases: { args: string[]; code: number; error: string; setup?: () => void; o?: object }[] = [
    { args: ["start"], code: 1, error: "START_FAILED", o: { behavior: "throw-sync" } },
    { args: ["restart"], code: 1, error: "START_FAILED", o: { behavior: "throw-sync" } },
    { args: ["status"], code: 4, error: "BAD_OPTION", o: { options: { pidFile: null } } },
    { args: ["stop"], code: 1, error: "BAD_OPTION", o: { options: { pidFile: null } } },
    { args: ["reload"], code: 1, error: "BAD_OPTION", o: { options: { pidFile: null } } },
    { args: ["logs"], code: 1, error: "BAD_OPTION", o: { options: { logFile: null } } },
    { args: ["start", "--jsno"], code: 2, error: "BAD_OPTION" },
    { args: ["status", "--jsno"], code: 4, error: "BAD_OPTION" },
    { args: ["frob"], code: 2, error: "BAD_OPTION" },
    { args: ["status"], code: 4, error: "BAD_OPTION", o: { options: { umask: -1 } } },
    {
      args: ["status"],
      code: 4,
      error: "BAD_PIDFILE",
      setup: () => Deno.symlinkSync(sb.path("elsewhere"), sb.pidFile),
    },
  ];
  for (const { args, code, error, setup, o } of cases) {
    try {
      Deno.removeSync(sb.pidFile);
    } catch { /* none */ }
    setup?.();
    const what = args.join(" ");
    const plain = await sb.run(args, o);
    assert.equal(plain.code, code, `${what}: ${plain.stderr}`);
    assert.notEqual(plain.stderr, "", what);
    const json = await sb.run([...args, "--json"], o);
    assert.equal(json.code, code, `${what} --json exits as without --json`);
    const object = oneObject(json, `${what} --json`);
    assert.equal(object.name, "fx", what);
    assert.equal(object.error.code, error, what);
    assert.ok(object.error.message.length > 0, what);
  }
  assert.deepEqual(processesWith(sb.marker), []);
});

Deno.test("start --json and status --json give the same startedAt; restart --json is one object", async () => {
  await using sb = new Sandbox();
  const start = oneObject(await sb.run(["start", "--json"]), "start") as unknown as {
    pid: number;
    startedAt: string;
  };
  const status = JSON.parse((await sb.run(["status", "--json"])).stdout);
  assert.equal(status.pid, start.pid);
  assert.equal(status.startedAt, start.startedAt);
  const again = JSON.parse((await sb.run(["start", "--json"])).stdout);
  assert.equal(again.alreadyRunning, true);
  assert.equal(again.startedAt, start.startedAt);
  const restart = oneObject(await sb.run(["restart", "--json"]), "restart") as unknown as {
    pid: number;
    alreadyRunning: boolean;
    startedAt: string;
  };
  assert.notEqual(restart.pid, start.pid);
  assert.equal(restart.alreadyRunning, false);
  assert.equal(
    JSON.parse((await sb.run(["status", "--json"])).stdout).startedAt,
    restart.startedAt,
  );
  await sb.run(["stop"]);
});

Deno.test("reload --json: the real startedAt, and stale when it removed a stale pidfile", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start();
  const status = JSON.parse((await sb.run(["status", "--json"])).stdout);
  const reload = JSON.parse((await sb.run(["reload", "--json"])).stdout);
  assert.equal(reload.pid, pid);
  assert.equal(reload.reloaded, true);
  assert.equal(reload.startedAt, status.startedAt);
  await sb.run(["stop"]);
  Deno.writeTextFileSync(sb.pidFile, "999999\n"); // nobody holds its lock
  const stale = await sb.run(["reload", "--json"]);
  assert.equal(stale.code, 0);
  const r = JSON.parse(stale.stdout);
  assert.equal(r.reloaded, false);
  assert.equal(r.stale, true);
  assert.equal(sb.exists("app.pid"), false, "the stale pidfile was removed");
  assert.match((await sb.run(["reload"])).stdout, /^not running\n$/);
});

Deno.test("logs --json: the last lines as one object", async () => {
  await using sb = new Sandbox();
  Deno.writeTextFileSync(sb.logFile, "one\ntwo\nthree\n");
  const out = await sb.run(["logs", "-n", "2", "--json"]);
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), {
    name: "fx",
    logFile: sb.logFile,
    lines: ["two", "three"],
  });
});

Deno.test("env: the process starts with it under start; under run it is set before main (documented)", async () => {
  await using sb = new Sandbox();
  const options = { env: { FIXTURE_EXTRA_ENV: "yes" } };
  const run = await sb.run(["run"], { behavior: "args", options });
  assert.equal(run.code, 0, run.stderr);
  const foreground = JSON.parse(sb.readLog("args.json"));
  assert.equal(foreground.env, "yes", "main sees it under run");
  assert.equal(foreground.topLevelEnv, null, "top-level code ran before daemonize set it");
  Deno.removeSync(sb.path("args.json"));
  const start = await sb.run(["start"], { behavior: "args", options });
  assert.equal(start.code, 0, start.stderr);
  const daemon = JSON.parse(await waitFor("the daemon's report", () => sb.readLog("args.json")));
  assert.equal(daemon.env, "yes");
  assert.equal(daemon.topLevelEnv, "yes", "the daemon's process started with it");
});

Deno.test("start with a scoped --allow-run: PERMISSION naming the --deny-write to repeat, which then works", async () => {
  await using sb = new Sandbox();
  const deno = Deno.execPath();
  const denoFlags = ["--allow-read", "--allow-write", "--allow-env", `--allow-run=/bin/sh,${deno}`];
  const refused = await sb.run(["start"], { denoFlags });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`--deny-write=/bin/sh,${deno}`));
  assert.doesNotMatch(refused.stderr, /runs with a --deny-write flag/);
  const options = { denoArgs: [`--deny-write=/bin/sh,${deno}`] };
  const pid = await sb.start({ denoFlags, options });
  assert.ok(pid > 0);
  await sb.run(["stop"]);
});
