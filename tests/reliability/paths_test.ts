// Hostile paths: symlinks (to a file, to nothing, in a loop), directories,
// FIFOs and directories others can write: refused, targets unchanged.

import assert from "node:assert/strict";
import { processesWith, Sandbox } from "../_helpers.ts";
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
