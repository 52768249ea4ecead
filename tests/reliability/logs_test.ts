// Logs under pressure: nothing lost, in order, across stop and rotation; a
// failing disk does not stop the daemon; odd content does not break the file.

import assert from "node:assert/strict";
import { isAlive, Sandbox, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

Deno.test("100 000 lines logged and then stop: all on disk, in order", async () => {
  await using sb = new Sandbox();
  const o = { behavior: "burst", env: { FIXTURE_LINES: "100000" } };
  await sb.start(o);
  await waitFor("the burst", () => sb.exists("burst-done"), 20_000);
  const t0 = performance.now();
  assert.equal((await sb.run(["stop"], o)).code, 0);
  const stopMs = performance.now() - t0;
  const lines = sb.readLog().split("\n").filter((l) => l.includes("burst: line "));
  assert.equal(lines.length, 100_000);
  let lost = 0;
  lines.forEach((line, i) => {
    if (!line.endsWith(`burst: line ${i + 1}`)) lost++;
  });
  assert.equal(lost, 0);
  figure("logs.100k.lines_lost", lost);
  figure("logs.100k.stop_ms", Math.round(stopMs));
});

Deno.test("rename + SIGHUP while logging every millisecond: new lines go to the new file, none lost", async () => {
  await using sb = new Sandbox();
  const pid = await sb.start({ behavior: "chatty" });
  await waitFor("some lines", () => sb.readLog().includes("seq 50\n"));
  Deno.renameSync(sb.logFile, sb.path("app.log.1"));
  Deno.kill(pid, "SIGHUP");
  await waitFor("lines in the new file", () => /seq \d+\n/.test(sb.readLog()));
  await waitFor("more lines", () => (sb.readLog().match(/seq \d+\n/g) ?? []).length > 50);
  assert.equal((await sb.run(["stop"])).code, 0);
  const seqs = (text: string) =>
    [...text.matchAll(/chatty: seq (\d+)\n/g)].map((m) => Number(m[1]));
  const old = seqs(sb.readLog("app.log.1"));
  const fresh = seqs(sb.readLog());
  const last = Number(/last seq (\d+)/.exec(sb.readLog())?.[1]);
  const all = [...old, ...fresh];
  assert.deepEqual(all, Array.from({ length: last }, (_, i) => i + 1), "every line once, in order");
  assert.ok(old.length > 0 && fresh.length > 0);
  figure("logs.rotate.lines", all.length);
  figure("logs.rotate.lines_lost", last - all.length);
});

function tryMount(dir: string): boolean {
  try {
    return new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir],
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false; // no mount(8)
  }
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN): tried once, undone. */
function canMount(): boolean {
  const dir = Deno.makeTempDirSync({ prefix: "daemonize-mount-probe-" });
  try {
    if (!tryMount(dir)) return false;
    new Deno.Command("umount", { args: [dir] }).outputSync();
    return true;
  } finally {
    Deno.removeSync(dir);
  }
}
const mountable = canMount();

/**
 * A test on a log directory that is a small tmpfs of its own, which the
 * test fills: mounted before `fn`, unmounted after, even when it fails;
 * ignored, saying why, where it cannot be mounted.
 */
function fullDiskTest(name: string, fn: (sb: Sandbox, logs: string) => Promise<void>): void {
  Deno.test({
    name: `${name}${
      mountable ? "" : " (ignored: cannot mount a small tmpfs here; needs root with CAP_SYS_ADMIN)"
    }`,
    ignore: !mountable,
    fn: async () => {
      await using sb = new Sandbox();
      const logs = sb.path("logs");
      Deno.mkdirSync(logs);
      assert.ok(tryMount(logs), "mounted a tmpfs");
      try {
        await fn(sb, logs);
      } finally {
        new Deno.Command("umount", { args: ["-l", logs] }).outputSync();
      }
    },
  });
}

function fill(dir: string): void {
  // dd stops with "No space left on device": that is the point.
  new Deno.Command("dd", { args: ["if=/dev/zero", `of=${dir}/filler`, "bs=64k"], stderr: "null" })
    .outputSync();
}

const seqCount = (text: string) => (text.match(/seq \d+/g) ?? []).length;

fullDiskTest(
  "log file system full while running: the daemon keeps running, reports it once, resumes; whole records only, and the log counts what was lost",
  async (sb, logs) => {
    const options = { logFile: `${logs}/app.log`, stderr: sb.path("stderr.txt") };
    const pid = await sb.start({ behavior: "chatty", options });
    await waitFor("some lines", () => sb.readLog("logs/app.log").includes("seq 20\n"));
    fill(logs);
    await waitFor(
      "the error report",
      () => sb.readLog("stderr.txt").includes("cannot write log file"),
    );
    const stalled = seqCount(sb.readLog("logs/app.log"));
    // Let a few hundred more lines fail; the report must stay one line.
    const failedFrom = Number(sb.readLog("seq"));
    await waitFor("more failed lines", () => Number(sb.readLog("seq")) >= failedFrom + 300);
    assert.ok(isAlive(pid), "still running");
    const reports = sb.readLog("stderr.txt").split("\n").filter((l) =>
      l.includes("cannot write log file")
    );
    assert.equal(reports.length, 1);
    Deno.removeSync(`${logs}/filler`);
    await waitFor("logging to resume", () => seqCount(sb.readLog("logs/app.log")) > stalled + 10);
    assert.equal((await sb.run(["stop"], { options })).code, 0);
    const log = sb.readLog("logs/app.log");
    assert.match(log, /exiting: stopped by SIGTERM/);
    // Every line a whole record: nothing torn, nothing glued on.
    const record = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[[A-Z]{3}\] [^:]+: .*$/;
    const lines = log.trimEnd().split("\n");
    for (const line of lines) assert.match(line, record);
    for (const line of lines) assert.ok(line.split("+00:00").length === 2, line);
    // The lines the log says were lost are exactly the ones missing.
    const said = [
      ...log.matchAll(/could not be written from \S+ to \S+ \(.*\): (\d+) lines? lost$/gm),
    ].reduce((n, m) => n + Number(m[1]), 0);
    const seen = new Set([...log.matchAll(/chatty: seq (\d+)$/gm)].map((m) => Number(m[1])));
    const last = Number(/chatty: last seq (\d+)$/m.exec(log)![1]);
    let missing = 0;
    for (let i = 1; i <= last; i++) if (!seen.has(i)) missing++;
    assert.ok(said > 0, "a loss report in the log");
    assert.equal(said, missing);
    figure("logs.disk_full.reports", reports.length);
    figure("logs.disk_full.lines_lost_reported", said);
  },
);

fullDiskTest(
  "log file system full with raw output in the log (the default): every line whole, and the log counts the raw lines lost",
  async (sb, logs) => {
    const options = { logFile: `${logs}/app.log`, stopTimeout: 5000 };
    const o = { behavior: "numbered-output", options };
    await sb.start(o);
    const progress = () => Number(sb.readLog("progress") || "0");
    await waitFor("some lines", () => progress() >= 20);
    fill(logs);
    // Lines keep coming while nothing fits: raw ones (the program's, its
    // child's) and LogTape's, all failing on the same full disk.
    const failedFrom = progress();
    await waitFor("more failed lines", () => progress() >= failedFrom + 200);
    Deno.removeSync(`${logs}/filler`);
    const resumed = progress();
    await waitFor("logging to resume", () => progress() >= resumed + 50);
    assert.equal((await sb.run(["stop"], o)).code, 0);
    const log = sb.readLog("logs/app.log");
    const pad = "p".repeat(80);
    const raw = new RegExp(`^(raw-out|raw-err|child-out|child-err) \\d+ ${pad}$`);
    const record = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[[A-Z]{3}\] [^:]+: .*$/;
    const lines = log.trimEnd().split("\n");
    const torn = lines.filter((line) =>
      !raw.test(line) && !(record.test(line) && line.split("+00:00").length === 2)
    );
    assert.deepEqual(torn, [], "every line a whole raw line or a whole record");
    const rawSaid = [...log.matchAll(/raw output: (\d+) lines? lost/g)]
      .reduce((n, m) => n + Number(m[1]), 0);
    assert.ok(rawSaid > 0, "a report of the raw lines lost");
    // The raw lines the log says were lost are exactly the ones missing.
    const wrote = {
      "raw": Number(sb.readLog("count")),
      "child": Number(sb.readLog("child-count")),
    };
    let missing = 0;
    for (const kind of ["raw-out", "raw-err", "child-out", "child-err"]) {
      const seen = new Set(
        [...log.matchAll(new RegExp(`^${kind} (\\d+) `, "gm"))].map((m) => Number(m[1])),
      );
      const n = kind.startsWith("raw") ? wrote.raw : wrote.child;
      for (let i = 1; i <= n; i++) if (!seen.has(i)) missing++;
    }
    // The sink's alert ("cannot write log file") is a raw line too, said on
    // the full disk: lost with the others unless it got through.
    if (!log.includes("cannot write log file")) missing++;
    assert.equal(rawSaid, missing);
    figure("logs.disk_full_raw.raw_lines_lost_reported", rawSaid);
    figure("logs.disk_full_raw.lines", lines.length);
  },
);

fullDiskTest(
  "log file system full, then the program falls silent and is stopped: the raw lines lost are still counted in the log",
  async (sb, logs) => {
    const o = { behavior: "raw-until-quiet", options: { logFile: `${logs}/app.log` } };
    await sb.start(o);
    const progress = () => Number(sb.readLog("progress") || "0");
    await waitFor("some lines", () => progress() >= 20);
    fill(logs);
    const failedFrom = progress();
    await waitFor("more failed lines", () => progress() >= failedFrom + 100);
    // No raw line comes after the disk has room again: only the copier's
    // end can say what was lost.
    Deno.writeTextFileSync(sb.path("quiet"), "");
    await waitFor("the program to fall silent", () => sb.exists("count"));
    Deno.removeSync(`${logs}/filler`);
    assert.equal((await sb.run(["stop"], o)).code, 0);
    const log = sb.readLog("logs/app.log");
    const pad = "p".repeat(80);
    const raw = new RegExp(`^raw-err \\d+ ${pad}$`);
    const record = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[[A-Z]{3}\] [^:]+: .*$/;
    const lines = log.trimEnd().split("\n");
    assert.deepEqual(lines.filter((l) => !raw.test(l) && !record.test(l)), [], "whole lines");
    const seen = new Set([...log.matchAll(/^raw-err (\d+) /gm)].map((m) => Number(m[1])));
    const wrote = Number(sb.readLog("count"));
    let missing = 0;
    for (let i = 1; i <= wrote; i++) if (!seen.has(i)) missing++;
    assert.ok(missing > 0, "raw lines were lost on the full disk");
    const said = [...log.matchAll(/raw output: (\d+) lines? lost/g)]
      .reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(said, missing, "the log counts the raw lines lost");
  },
);

Deno.test("a 1 MB line, lone surrogates, control characters and raw bytes do not break the file", async () => {
  await using sb = new Sandbox();
  await sb.start({ behavior: "odd-lines" });
  assert.equal((await sb.run(["stop"])).code, 0);
  const bytes = Deno.readFileSync(sb.logFile);
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes); // valid UTF-8 throughout
  const lines = text.trimEnd().split("\n");
  assert.ok(lines.some((l) => l.length > 1_000_000 && l.includes("odd: long")));
  assert.ok(lines.some((l) => l.includes("odd: lone surrogates \ufffd and \ufffd")));
  assert.ok(lines.some((l) => l.includes("odd: after the odd lines")));
  assert.match(lines.at(-1)!, /exiting: stopped by SIGTERM/);
});
