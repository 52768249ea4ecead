// The log file sink in this process, against real files: when lines reach
// the disk, reopening, file modes, and a full file system (a 256 KiB tmpfs,
// mounted for the test where this runs as root).

import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { fileSink, type FileSinkOptions } from "../lib/daemon/_file_sink.ts";
import { textFormatter } from "../lib/daemon/_format.ts";
import { waitFor } from "./_helpers.ts";

function record(n: number, text = "line", pad = ""): LogRecord {
  const message = `${text} ${n}${pad}`;
  return {
    category: ["t"],
    level: "info",
    message: [message],
    rawMessage: message,
    properties: {},
    timestamp: Date.now(),
  };
}

function tempDir(): string {
  return Deno.makeTempDirSync({ prefix: "daemonize-sink-" });
}

function sinkAt(path: string, over: Partial<FileSinkOptions> = {}) {
  return fileSink({ path, format: textFormatter(), mode: 0o644, alert: () => {}, ...over });
}

function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").slice(0, -1);
}

Deno.test("a lone line is in the file when the sink returns; a burst is all there a turn later, in order", async () => {
  const dir = tempDir();
  try {
    const path = `${dir}/app.log`;
    using sink = sinkAt(path);
    sink(record(0, "lone"));
    assert.match(Deno.readTextFileSync(path), /\[INF\] t: lone 0\n$/);
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (let i = 1; i <= 10_000; i++) sink(record(i));
    await Promise.resolve();
    const got = lines(path);
    assert.equal(got.length, 10_001);
    got.slice(1).forEach((line, i) => assert.ok(line.endsWith(`t: line ${i + 1}`), line));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("dispose writes what is pending; reopen after a rename goes on in a fresh file", () => {
  const dir = tempDir();
  try {
    const path = `${dir}/app.log`;
    const sink = sinkAt(path);
    for (let i = 0; i < 100; i++) sink(record(i));
    Deno.renameSync(path, `${dir}/app.log.1`);
    sink.reopen();
    sink(record(100));
    sink[Symbol.dispose]();
    assert.equal(lines(`${dir}/app.log.1`).length, 100);
    assert.deepEqual(lines(path).map((l) => l.slice(l.indexOf("t: "))), ["t: line 100"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the file is created, and created again on reopen, with exactly the mode given, whatever the process umask", () => {
  const dir = tempDir();
  const before = Deno.umask(0o022);
  try {
    const path = `${dir}/app.log`;
    using sink = sinkAt(path, { mode: 0o644 & ~0o077 });
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    Deno.renameSync(path, `${dir}/app.log.1`);
    sink.reopen();
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o600);
    Deno.umask(0o077);
    Deno.removeSync(path);
    using _loose = sinkAt(path, { mode: 0o644 });
    assert.equal(Deno.statSync(path).mode! & 0o777, 0o644);
  } finally {
    Deno.umask(before);
    Deno.removeSync(dir, { recursive: true });
  }
});

function canMount(): boolean {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const dir = tempDir();
  try {
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir],
    })
      .outputSync();
    if (mount.code !== 0) return false;
    new Deno.Command("umount", { args: [dir] }).outputSync();
    return true;
  } catch {
    return false;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** A 256 KiB tmpfs, mounted for the test and unmounted after. */
class SmallDisk implements Disposable {
  readonly dir = tempDir();
  constructor() {
    const out = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=256k", "tmpfs", this.dir],
    }).outputSync();
    if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
  }
  /** Fills what is left with a file; returns its path. */
  fill(): string {
    const path = `${this.dir}/filler`;
    const file = Deno.openSync(path, { write: true, create: true });
    const block = new Uint8Array(4096);
    try {
      for (;;) file.writeSync(block);
    } catch (err) {
      if (!(err instanceof Error && /No space left|ENOSPC|os error 28/.test(err.message))) {
        throw err;
      }
    } finally {
      file.close();
    }
    return path;
  }
  [Symbol.dispose](): void {
    new Deno.Command("umount", { args: [this.dir] }).outputSync();
    Deno.removeSync(this.dir, { recursive: true });
  }
}

const RECORD =
  /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+00:00 \[(INF|ERR)\] (t: line \d+ x+|daemonize: log file .* could not be written from \S+ to \S+ \(.*\): \d+ lines? lost)$/;

const MOUNTABLE = canMount();

Deno.test({
  name:
    "full disk: only whole records in the file, and once space returns a record says how many were lost and when" +
    (MOUNTABLE ? "" : " (ignored: needs root to mount a tmpfs)"),
  ignore: !MOUNTABLE,
  fn: async () => {
    using disk = new SmallDisk();
    const path = `${disk.dir}/app.log`;
    const alerts: string[] = [];
    using sink = sinkAt(path, { alert: (text) => alerts.push(text), retryMs: 50 });
    const pad = " " + "x".repeat(150);
    let n = 0;
    sink(record(n++)); // the file exists and holds a record
    const filler = disk.fill();
    // Lone lines and a burst, all while the disk is full.
    for (let i = 0; i < 20; i++) sink(record(n++));
    for (let i = 0; i < 2000; i++) sink(record(n++, "line", pad));
    await Promise.resolve();
    assert.equal(alerts.length, 1, alerts.join(""));
    assert.match(alerts[0], /cannot write log file .*app\.log: .*; counting lost lines/);
    Deno.removeSync(filler);
    // The report comes by itself, without a new line, within the retry time.
    await waitFor("the loss report", () => Deno.readTextFileSync(path).includes("lost"));
    sink(record(n++, "line", pad));
    const all = lines(path);
    for (const line of all) {
      assert.match(line.replace(/t: line (\d+)$/, `t: line $1${pad}`), RECORD);
    }
    const written = all.filter((l) => l.includes("t: line ")).length;
    const at = all.findIndex((l) => l.includes("lost"));
    const report = all[at];
    // The burst's first write got only part of the way: whole records of it
    // are there, and the one it cut short is not.
    assert.ok(all.slice(0, at).some((l) => l.endsWith("xxx")), "part of the burst was written");
    const lost = Number(/: (\d+) lines? lost$/.exec(report)![1]);
    assert.equal(written + lost, n, `${written} written + ${lost} reported lost = ${n} logged`);
    assert.ok(lost > 0);
    assert.match(all.at(-1)!, new RegExp(`t: line ${n - 1} x+$`));
  },
});
