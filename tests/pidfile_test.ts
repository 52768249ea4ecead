// The pidfile's content protocol (lib/pidfile.ts), in process.

import assert from "node:assert/strict";
import { formatPidFile, parsePidFile, type PidFileContent } from "../lib/pidfile.ts";

const plain: PidFileContent = {
  pid: 4242,
  startedAt: null,
  starting: false,
  stopping: false,
  keeper: false,
  main: null,
  restarts: 0,
  lastExit: null,
  gaveUp: false,
};

Deno.test("a daemon's pidfile is its pid and whitespace, so `kill $(cat app.pid)` always works", () => {
  assert.equal(formatPidFile({ ...plain, starting: true }), "4242");
  assert.equal(formatPidFile(plain), "4242\n");
  assert.equal(formatPidFile({ ...plain, stopping: true }), "4242\n\n");
  for (const content of [{ ...plain, starting: true }, plain, { ...plain, stopping: true }]) {
    assert.deepEqual(parsePidFile(formatPidFile(content)), content);
    assert.match(formatPidFile(content), /^4242\s*$/);
  }
});

Deno.test("a keeper's pidfile keeps every field through a write and a read", () => {
  const full: PidFileContent = {
    pid: 7,
    startedAt: new Date("2026-11-30T16:20:14.512Z"),
    starting: true,
    stopping: true,
    keeper: true,
    main: 4250,
    restarts: 3,
    lastExit: { at: new Date("2026-11-30T16:23:51.292Z"), reason: "killed by SIGKILL" },
    gaveUp: true,
  };
  assert.deepEqual(parsePidFile(formatPidFile(full)), full);
  assert.match(formatPidFile(full), /^7\n/, "the keeper's pid is the first line");
  assert.equal(parsePidFile("1\nfuture_key=whatever\n")?.pid, 1, "unknown keys are ignored");
});

Deno.test("anything but a pid, whitespace and key=value lines is not a pidfile of ours", () => {
  for (
    const bad of [
      "",
      "\n",
      "0\n",
      "-5\n",
      "12a\n",
      "123\njunk",
      "123\njunk\n",
      "123\n\n\n",
      " 123\n",
      "99999999\n",
      "4194305\n",
      "1e3\n",
      "123\nKEY=1\n",
      "123\nstarted=1",
    ]
  ) {
    assert.equal(parsePidFile(bad), null, JSON.stringify(bad));
  }
  assert.equal(parsePidFile("4194304\n")?.pid, 4194304);
});
