// Raw output follows rotation: the project's own logrotate configuration
// (examples/logrotate.conf: rename, create, reload in postrotate,
// compress with delaycompress), run for real several times while the daemon
// writes raw stdout and stderr, LogTape lines, and a child with the daemon's
// stdio writes too. Every line is found exactly once, whole, across the log
// and its rotated (and compressed) files.

import assert from "node:assert/strict";
import { Sandbox, waitFor } from "../_helpers.ts";
import { figure } from "./_seed.ts";

const ROTATIONS = 6;
const FIXTURE = new URL("../fixtures/app.ts", import.meta.url).pathname;
const EXAMPLE = new URL("../../examples/logrotate.conf", import.meta.url);

function logrotate(): string | null {
  for (const path of ["/usr/sbin/logrotate", "/sbin/logrotate", "/usr/bin/logrotate"]) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}
const LOGROTATE = Deno.build.os === "linux" ? logrotate() : null;

function idName(flag: "-un" | "-gn"): string {
  const out = new Deno.Command("id", { args: [flag], stdout: "piped" }).outputSync();
  return new TextDecoder().decode(out.stdout).trim();
}

/** examples/logrotate.conf with its paths and owner rewritten for the sandbox. */
function adaptedConfig(sb: Sandbox): string {
  let conf = Deno.readTextFileSync(EXAMPLE);
  const rewrite = (from: string, to: string) => {
    assert.ok(conf.includes(from), `examples/logrotate.conf no longer has "${from}"`);
    conf = conf.replaceAll(from, to);
  };
  rewrite("/srv/app/app.log", sb.logFile);
  rewrite("cd /srv/app", `cd ${sb.dir}`);
  rewrite("/usr/bin/deno run -A app.ts reload", `${Deno.execPath()} run -A ${FIXTURE} reload`);
  rewrite("create 0644 app app", `create 0644 ${idName("-un")} ${idName("-gn")}`);
  return conf;
}

async function text(path: string): Promise<string> {
  if (!path.endsWith(".gz")) return Deno.readTextFileSync(path);
  const file = await Deno.open(path);
  return await new Response(file.readable.pipeThrough(new DecompressionStream("gzip"))).text();
}

const PAD = "p".repeat(80);
const RECORD = /^\d{4}-\d\d-\d\d \S+ \S+ \[\w+\] ([\w.-]+): (.*)$/;

Deno.test({
  name:
    `${ROTATIONS} rotations by examples/logrotate.conf (rename, create, reload, delaycompress) while raw stdout, raw stderr, LogTape and a child write: every line once, whole${
      LOGROTATE === null
        ? " (ignored: needs Linux with logrotate installed; .ci/run installs it)"
        : ""
    }`,
  ignore: LOGROTATE === null,
  async fn() {
    await using sb = new Sandbox();
    const conf = sb.path("logrotate.conf");
    Deno.writeTextFileSync(conf, adaptedConfig(sb));
    const o = { behavior: "numbered-output", options: { stopTimeout: 5000 } };
    await sb.start(o);
    const progress = () => {
      try {
        return Number(Deno.readTextFileSync(sb.path("progress")));
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < ROTATIONS; i++) {
      const from = progress();
      await waitFor("lines before the rotation", () => progress() >= from + 50, 10_000);
      const rotated = await new Deno.Command(LOGROTATE!, {
        args: ["-f", "-s", sb.path("logrotate.state"), conf],
        cwd: sb.dir,
        env: { ...sb.envMarker(), FIXTURE_BEHAVIOR: o.behavior, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(rotated.success, new TextDecoder().decode(rotated.stderr));
    }
    const last = progress();
    await waitFor("lines after the last rotation", () => progress() >= last + 50, 10_000);
    const stop = await sb.run(["stop"], o);
    assert.equal(stop.code, 0, stop.stderr);

    const files = [...Deno.readDirSync(sb.dir)].map((e) => e.name)
      .filter((name) => /^app\.log(\.\d+(\.gz)?)?$/.test(name)).sort();
    assert.deepEqual(
      files,
      [
        "app.log",
        "app.log.1",
        ...Array.from({ length: ROTATIONS - 1 }, (_, i) => `app.log.${i + 2}.gz`),
      ]
        .sort(),
    );
    const seen: Record<string, number[]> = {
      "raw-out": [],
      "raw-err": [],
      "child-out": [],
      "child-err": [],
      tape: [],
    };
    const torn: string[] = [];
    for (const name of files) {
      for (const line of (await text(sb.path(name))).split("\n")) {
        if (line === "") continue;
        const raw = /^(raw-out|raw-err|child-out|child-err) (\d+) (p*)$/.exec(line);
        if (raw !== null && raw[3] === PAD) {
          seen[raw[1]].push(Number(raw[2]));
          continue;
        }
        const record = RECORD.exec(line);
        if (record === null) {
          torn.push(`${name}: ${line.slice(0, 120)}`);
          continue;
        }
        if (record[1] !== "writer") continue; // the library's own lines
        const tape = /^tape (\d+) (p*)$/.exec(record[2]);
        if (tape === null || tape[2] !== PAD) torn.push(`${name}: ${line.slice(0, 120)}`);
        else seen.tape.push(Number(tape[1]));
      }
    }
    const count = Number(Deno.readTextFileSync(sb.path("count")));
    const childCount = Number(Deno.readTextFileSync(sb.path("child-count")));
    const report: Record<string, { lost: number; duplicated: number }> = {};
    for (const [stream, numbers] of Object.entries(seen)) {
      const expected = stream.startsWith("child") ? childCount : count;
      const unique = new Set(numbers);
      report[stream] = {
        lost: Array.from({ length: expected }, (_, i) => i + 1).filter((n) => !unique.has(n))
          .length,
        duplicated: numbers.length - unique.size,
      };
    }
    figure("logrotate", { rotations: ROTATIONS, lines: count, childLines: childCount, report });
    assert.deepEqual(torn, [], "torn lines");
    for (const [stream, r] of Object.entries(report)) {
      assert.deepEqual(r, { lost: 0, duplicated: 0 }, stream);
    }
    assert.ok(count > 50 * (ROTATIONS + 1) && childCount > 0, `${count}, ${childCount}`);
  },
});
