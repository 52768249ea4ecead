// Hostile paths: symlinks (to a file, to nothing, in a loop), directories,
// FIFOs and directories others can write: refused, targets unchanged.

import assert from "node:assert/strict";
import {
  collect,
  isAlive,
  type Output,
  processesWith,
  Sandbox,
  usePackage,
  waitFor,
} from "../_helpers.ts";
import { figure } from "./_seed.ts";

type Option = "pidFile" | "logFile" | "stdout" | "stderr";
const OPTIONS: Option[] = ["pidFile", "logFile", "stdout", "stderr"];

function mkfifo(path: string): void {
  assert.ok(new Deno.Command("mkfifo", { args: [path] }).outputSync().success);
}

async function refused(sb: Sandbox, option: Option, path: string, why: RegExp): Promise<void> {
  const options = { [option]: path };
  for (const command of ["start", "stop", "status"]) {
    if (command !== "start" && option !== "pidFile") continue;
    const out = await sb.run([command], { options });
    assert.notEqual(out.code, 0, `${command} with ${option} ${path}`);
    assert.match(out.stderr, why);
    assert.doesNotMatch(out.stderr, /^\s+at /m);
  }
  assert.deepEqual(processesWith(sb.marker), []);
}

Deno.test("pidFile, logFile, stdout, stderr as symlinks are refused; targets unchanged byte for byte", async () => {
  let cases = 0;
  for (const option of OPTIONS) {
    await using sb = new Sandbox();
    const precious = sb.path("precious.bin");
    const content = new Uint8Array([1, 2, 3, 0, 255, 10]);
    Deno.writeFileSync(precious, content);
    const before = Deno.statSync(precious);
    const link = sb.path(`${option}.link`);

    Deno.symlinkSync(precious, link);
    await refused(sb, option, link, /is a symlink/);
    assert.deepEqual(Deno.readFileSync(precious), content);
    assert.equal(Deno.statSync(precious).mtime?.getTime(), before.mtime?.getTime());

    Deno.removeSync(link);
    Deno.symlinkSync(sb.path("missing.bin"), link);
    await refused(sb, option, link, /is a symlink/);
    assert.equal(sb.exists("missing.bin"), false, "a dangling symlink's target is never created");

    Deno.removeSync(link);
    Deno.symlinkSync(link, link);
    await refused(sb, option, link, /is a symlink/);
    cases += 3;
  }
  figure("paths.symlink_cases", cases);
});

Deno.test("a directory or a FIFO where a file should be is refused without hanging", async () => {
  for (const option of OPTIONS) {
    await using sb = new Sandbox();
    Deno.mkdirSync(sb.path("dir"));
    await refused(sb, option, sb.path("dir"), /is a directory/);
    mkfifo(sb.path("fifo"));
    await refused(sb, option, sb.path("fifo"), /is not a regular file/);
  }
});

Deno.test("a world-writable directory: refused unless sticky, and then a file of another user is refused", async () => {
  await using sb = new Sandbox();
  const open = sb.path("open");
  Deno.mkdirSync(open);
  Deno.chmodSync(open, 0o777);
  Deno.chownSync(open, 65534, 65534);
  await refused(sb, "pidFile", `${open}/app.pid`, /writable by everyone and not sticky/);
  assert.equal(sb.exists("open/app.pid"), false);

  const sticky = sb.path("sticky");
  Deno.mkdirSync(sticky);
  Deno.chmodSync(sticky, 0o1777);
  Deno.writeTextFileSync(`${sticky}/app.pid`, "theirs\n");
  Deno.chownSync(`${sticky}/app.pid`, 65534, 65534);
  await refused(sb, "pidFile", `${sticky}/app.pid`, /belongs to uid 65534, not to you/);
  assert.equal(Deno.readTextFileSync(`${sticky}/app.pid`), "theirs\n");

  // A sticky shared directory (like /tmp) is fine for files that are ours.
  const pid = await sb.start({ options: { pidFile: `${sticky}/mine.pid` } });
  assert.equal(Deno.readTextFileSync(`${sticky}/mine.pid`), `${pid}\n`);
  await sb.run(["stop"], { options: { pidFile: `${sticky}/mine.pid` } });
});

Deno.test("files are created with the umask applied and are never world-writable", async () => {
  for (const umask of [0o022, 0o077, 0]) {
    await using sb = new Sandbox();
    const options = { umask, stdout: sb.path("out.txt") };
    await sb.start({ options });
    const mode = (name: string) => Deno.statSync(sb.path(name)).mode! & 0o777;
    const expected = 0o644 & ~umask;
    assert.equal(mode("app.pid"), expected, `pidfile, umask ${umask.toString(8)}`);
    assert.equal(mode("app.log"), expected, `log, umask ${umask.toString(8)}`);
    assert.equal(mode("out.txt"), expected, `stdout, umask ${umask.toString(8)}`);
    for (const name of ["app.pid", "app.log", "out.txt"]) assert.equal(mode(name) & 0o002, 0);
    await sb.run(["stop"], { options });
  }
});

// A user's project: app.ts (relative or script-relative paths) beside a
// deno.json that maps the package and has start/stop/status tasks.
function project(dir: string, paths: "relative" | "script"): void {
  Deno.mkdirSync(dir, { recursive: true });
  usePackage(dir);
  const config = JSON.parse(Deno.readTextFileSync(`${dir}/deno.json`));
  config.tasks = Object.fromEntries(
    ["start", "stop", "status", "restart"].map((c) => [c, `deno run -A app.ts ${c}`]),
  );
  Deno.writeTextFileSync(`${dir}/deno.json`, JSON.stringify(config, null, 2));
  const path = (file: string) =>
    paths === "relative" ? `"${file}"` : `new URL("${file}", import.meta.url).pathname`;
  Deno.writeTextFileSync(
    `${dir}/app.ts`,
    `import { daemonize } from "@daemonize/daemon";
await daemonize(async ({ signal, logger }) => {
  logger.info("up from {module}", { module: import.meta.url });
  await new Promise((resolve) => signal.addEventListener("abort", resolve));
}, { name: "app", pidFile: ${path("app.pid")}, logFile: ${path("app.log")} });
`,
  );
}

/** Runs `args` in `cwd` as a shell would: PWD is the path the user typed. */
async function shell(sb: Sandbox, cwd: string, args: string[]): Promise<Output> {
  return await collect(
    new Deno.Command(Deno.execPath(), {
      args,
      cwd,
      env: { ...sb.envMarker(), PWD: cwd, NO_COLOR: "1" },
      stdin: "null",
    }),
  );
}

function switchLink(link: string, target: string): void {
  // As deploy tools do: a new link renamed over the old one.
  Deno.symlinkSync(target, `${link}.new`);
  Deno.renameSync(`${link}.new`, link);
}

const pidOf = (out: Output) =>
  Number(/(?:started|running) \S+ \(pid (\d+)\)/.exec(out.stdout)?.[1]);

for (const wait of [false, true]) {
  Deno.test(
    `symlinked deploy, relative pidFile: restart from current/ after switching it${
      wait ? ", once the daemon has followed the link" : " at once"
    }: one daemon, the new release's`,
    async () => {
      await using sb = new Sandbox();
      for (const v of ["v1", "v2"]) project(sb.path(`releases/${v}`), "relative");
      const current = sb.path("current");
      Deno.symlinkSync("releases/v1", current);
      const start = await shell(sb, current, ["run", "-A", "app.ts", "start"]);
      assert.equal(start.code, 0, start.stderr);
      const first = pidOf(start);
      assert.ok(sb.exists("releases/v1/app.pid"));

      switchLink(current, "releases/v2");
      if (wait) {
        // The daemon's pidfile path (current/app.pid) now names v2's file:
        // it restores its pidfile there.
        await waitFor("the daemon to follow the link", () => sb.exists("releases/v2/app.pid"));
      }
      const t0 = performance.now();
      const restart = await shell(sb, current, ["run", "-A", "app.ts", "restart"]);
      assert.equal(restart.code, 0, restart.stderr);
      const second = pidOf(restart);
      if (wait) assert.match(restart.stdout, new RegExp(`stopped app \\(pid ${first}\\)`));
      await waitFor("one daemon", () => {
        const left = processesWith(sb.marker);
        return left.length === 1 && left[0] === second;
      }, 2000);
      const settledMs = performance.now() - t0;
      assert.equal(isAlive(first), false);
      assert.match(sb.readLog("releases/v2/app.log"), /up from file:\/\/.*\/v2\/app\.ts/);
      const status = await shell(sb, current, ["run", "-A", "app.ts", "status", "--json"]);
      assert.equal(JSON.parse(status.stdout).pid, second);
      assert.equal((await shell(sb, current, ["run", "-A", "app.ts", "stop"])).code, 0);
      assert.deepEqual(processesWith(sb.marker), []);
      figure(`paths.symlinked_deploy${wait ? ".followed" : ".at_once"}_ms`, Math.round(settledMs));
    },
  );
}

Deno.test("started from a subdirectory or with deno task: status from the project root finds it", async () => {
  await using sb = new Sandbox();
  const cases: [string, "relative" | "script", string[]][] = [
    ["script-relative paths, deno run from sub/", "script", ["run", "-A", "../app.ts", "start"]],
    ["script-relative paths, deno task from sub/", "script", ["task", "start"]],
    ["relative paths, deno task from sub/", "relative", ["task", "start"]],
  ];
  for (const [what, paths, command] of cases) {
    const root = sb.path(what.replace(/\W+/g, "-"));
    project(root, paths);
    Deno.mkdirSync(`${root}/sub`);
    const start = await shell(sb, `${root}/sub`, command);
    assert.equal(start.code, 0, `${what}: ${start.stderr}`);
    const status = await shell(sb, root, ["run", "-A", "app.ts", "status", "--json"]);
    assert.equal(status.code, 0, `${what}: ${status.stdout}`);
    assert.equal(JSON.parse(status.stdout).pid, pidOf(start), what);
    assert.equal((await shell(sb, root, ["task", "stop"])).code, 0);
  }
  assert.deepEqual(processesWith(sb.marker), []);
});
