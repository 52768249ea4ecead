// The class form: @daemon, run(ctx), reload(ctx) on SIGHUP, in both
// decorator modes.

import assert from "node:assert/strict";
import { daemon, type DaemonContext } from "../mod.ts";
import { toTarget } from "../lib/decorator.ts";
import { DaemonError } from "../lib/errors.ts";
import { isAlive, Sandbox, waitFor } from "./_helpers.ts";

Deno.test("the class form starts, reloads on SIGHUP and stops", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { script: "service.ts" });
  assert.equal(out.code, 0, out.stderr);
  const pid = Number(/started svc \(pid (\d+)\)/.exec(out.stdout)?.[1]);
  assert.equal(Deno.readTextFileSync(sb.path("svc.pid")), `${pid}\n`);
  Deno.kill(pid, "SIGHUP");
  await waitFor("the reload", () => sb.readLog("svc.log").includes("reload #1"));
  const stop = await sb.run(["stop"], { script: "service.ts" });
  assert.equal(stop.code, 0);
  assert.equal(isAlive(pid), false);
  assert.match(sb.readLog("svc.log"), /svc: service down after 1 reloads/);
});

Deno.test("the class form runs in the foreground", async () => {
  await using sb = new Sandbox();
  const child = sb.command(["run"], { script: "service.ts" }).spawn();
  sb.extraPids.push(child.pid);
  await waitFor("the service", () => sb.readLog("svc.log").includes("service up"));
  child.kill("SIGTERM");
  assert.equal((await child.output()).code, 0);
});

Deno.test("@daemon works under experimentalDecorators (called with the class alone)", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["run"], {
    script: "legacy/service.ts",
    denoFlags: ["-A", "--config", new URL("./fixtures/legacy/deno.json", import.meta.url).pathname],
  });
  assert.equal(out.code, 0, out.stderr);
  assert.match(sb.readLog("legacy.log"), /legacy: legacy decorators work/);
});

Deno.test("daemonize(Class, extra) lays extra over the decorator's options", () => {
  @daemon({ name: "merged", pidFile: "a.pid", stopTimeout: 5 })
  class Merged {
    run(_ctx: DaemonContext): void {}
  }
  const target = toTarget(Merged, { pidFile: "b.pid" });
  assert.deepEqual(target.options, { name: "merged", pidFile: "b.pid", stopTimeout: 5 });
  assert.equal(target.reload, null);
});

Deno.test("daemonize(fn) and daemonize(Class) share one shape; the class is built once, lazily", async () => {
  let built = 0;
  const calls: string[] = [];
  @daemon({})
  class Counted {
    constructor() {
      built++;
    }
    run(): void {
      calls.push("run");
    }
    reload(): void {
      calls.push("reload");
    }
  }
  const target = toTarget(Counted, undefined);
  assert.equal(built, 0);
  const ctx = {} as DaemonContext;
  await target.main(ctx);
  await target.reload!(ctx);
  assert.equal(built, 1);
  assert.deepEqual(calls, ["run", "reload"]);
  const fn = async () => {};
  assert.equal(toTarget(fn, { name: "f" }).main, fn);
});

Deno.test("toTarget refuses a class without run and anything that is not a function", () => {
  class NoRun {}
  for (const bad of [NoRun, 42, null, "main"]) {
    assert.throws(
      () => toTarget(bad as never, undefined),
      (e: unknown) => e instanceof DaemonError && e.code === "BAD_OPTION",
    );
  }
});

Deno.test("a legacy-decorated daemon also starts detached (deno.json beside the module is found)", async () => {
  await using sb = new Sandbox();
  const out = await sb.run(["start"], { script: "legacy/service.ts" });
  assert.equal(out.code, 0, out.stderr);
  await waitFor("the daemon to finish", () => sb.readLog("legacy.log").includes("main returned"));
});
