// console.* capture in this process: into LogTape while it is active, never
// back into LogTape from a sink that writes to the console.

import assert from "node:assert/strict";
import { configureSync, getLogger, type LogRecord, resetSync } from "@logtape/logtape";
import { captureConsole } from "../lib/daemon/_console.ts";

Deno.test("a sink that writes to the console gets each captured line once; its output goes to the real console", () => {
  const real: string[] = [];
  const records: LogRecord[] = [];
  const saved = console.info;
  console.info = (...args: unknown[]) => real.push(args.join(" "));
  let active = true;
  configureSync({
    reset: true,
    sinks: {
      echo: (record) => {
        records.push(record);
        console.info(`echo: ${record.message.join("")}`);
      },
    },
    loggers: [
      { category: [], sinks: ["echo"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal", parentSinks: "override" },
    ],
  });
  const release = captureConsole(getLogger(["app", "console"]), () => active);
  try {
    console.info("hello {not a placeholder}");
    assert.equal(records.length, 1);
    assert.deepEqual(real, ["echo: hello {not a placeholder}"]);
    active = false;
    console.info("after");
    assert.equal(records.length, 1);
    assert.deepEqual(real, ["echo: hello {not a placeholder}", "after"]);
  } finally {
    release();
    resetSync();
    console.info = saved;
  }
  assert.equal(console.info, saved);
});
