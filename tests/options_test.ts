// Options are validated once into a resolved object; the pidfile parser
// accepts one pid and nothing else.

import assert from "node:assert/strict";
import { moduleStem, resolveOptions } from "../lib/options.ts";
import { absolutePath } from "../lib/_option_paths.ts";
import { portableOptions } from "../lib/_portable.ts";
import { DaemonError } from "../mod.ts";

const base = { cwd: "/srv/app", mainModule: "file:///srv/app/worker.ts", args: [] };

Deno.test("resolveOptions fills in every default and makes paths absolute", () => {
  const r = resolveOptions({ pidFile: "run/w.pid", logFile: "w.log", args: ["start"] }, base);
  assert.equal(r.name, "worker");
  assert.equal(r.pidFile, "/srv/app/run/w.pid");
  assert.equal(r.logFile, "/srv/app/w.log");
  assert.equal(r.stdout, "/srv/app/w.log", "stdout defaults to the log file");
  assert.equal(r.stderr, "/srv/app/w.log");
  assert.equal(r.stdin, "/dev/null");
  assert.equal(r.cwd, "/srv/app");
  assert.equal(r.umask, 0o022);
  assert.equal(r.logLevel, "info");
  assert.equal(r.readiness, "auto");
  assert.equal(r.readyTimeout, 10_000);
  assert.equal(r.stopTimeout, 10_000);
  assert.deepEqual(r.denoArgs, []);
  assert.equal(r.configureLogging, true);
  assert.equal(r.logFormat, "text");
  assert.deepEqual(r.logSinks, {});
});

Deno.test("without a log file raw output goes to the null device", () => {
  const r = resolveOptions({ args: [] }, base);
  assert.equal(r.stdout, "/dev/null");
  assert.equal(r.stderr, "/dev/null");
  assert.equal(r.pidFile, null);
});

Deno.test("resolveOptions rejects bad values with BAD_OPTION naming the option", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ umask: -1 }, "umask"],
    [{ umask: 1.5 }, "umask"],
    [{ stopTimeout: Infinity }, "stopTimeout"],
    [{ readyTimeout: -1 }, "readyTimeout"],
    [{ readyTimeout: 2 ** 31 }, "readyTimeout"],
    [{ stopTimeout: 3e9 }, "stopTimeout"],
    [{ name: "a\nb" }, "name"],
    [{ pidFile: "" }, "pidFile"],
    [{ logFile: 7 }, "logFile"],
    [{ cwd: "   " }, "cwd"],
    [{ env: { "A=B": "x" } }, "env"],
    [{ onReload: "yes" }, "onReload"],
    [{ configureLogging: "no" }, "configureLogging"],
    [{ logFormat: "yaml" }, "logFormat"],
    [{ logSinks: [() => {}] }, "logSinks"],
    [{ logSinks: { otel: "not a sink" } }, "logSinks"],
    [{ logSinks: { file: () => {} }, configureLogging: false }, "logSinks"],
    [{ args: [1] }, "args"],
    [{ LogFile: "x" }, "LogFile"],
  ];
  for (const [options, name] of cases) {
    assert.throws(
      () => resolveOptions(options, base),
      (e: unknown) =>
        e instanceof DaemonError && e.code === "BAD_OPTION" && e.message.includes(`"${name}"`),
      JSON.stringify(options),
    );
  }
});

Deno.test("portableOptions keeps what was given, paths absolute, and drops functions and arguments", () => {
  const p = portableOptions({
    pidFile: "a.pid",
    name: "n",
    onReload: () => {},
    logSinks: { second: () => {} },
    logFormat: "json",
    args: ["x"],
    denoArgs: ["-A"],
  }, "/w");
  assert.deepEqual(p, { pidFile: "/w/a.pid", name: "n", logFormat: "json" });
});

Deno.test("absolutePath and moduleStem", () => {
  assert.equal(absolutePath("../x/./y.pid", "/a/b"), "/a/x/y.pid");
  assert.equal(absolutePath("/abs.pid", "/a"), "/abs.pid");
  assert.equal(moduleStem("file:///srv/my-app.ts"), "my-app");
  assert.equal(moduleStem("/srv/noext"), "noext");
});
