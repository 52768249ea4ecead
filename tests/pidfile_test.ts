// The pidfile's content protocol (lib/pidfile.ts), in process.

import assert from "node:assert/strict";
import { formatPidFile, parsePidFile, type PidFileContent } from "../lib/pidfile.ts";

const plain: PidFileContent = {
  pid: 4242,
  starting: false,
  stopping: false,
  keeper: false,
  main: null,
  restarts: 0,
  lastExit: null,
  gaveUp: false,
  reload: null,
};

Deno.test("a ready daemon's pidfile is its pid on a line of its own, as every tool reads it", () => {
  assert.equal(formatPidFile(plain), "4242\n");
  assert.deepEqual(parsePidFile("4242\n"), plain);
});

Deno.test("every field survives a write and a read", () => {
  const full: PidFileContent = {
    pid: 7,
    starting: true,
    stopping: true,
    keeper: true,
    main: 4250,
    restarts: 3,
    lastExit: { at: new Date("2026-11-30T16:23:51.292Z"), reason: "killed by SIGKILL" },
    gaveUp: true,
    reload: { seq: 2, error: "cannot reopen the log file: NotFound" },
  };
  assert.deepEqual(parsePidFile(formatPidFile(full)), full);
  assert.deepEqual(parsePidFile("7\nreload=1 ok\n")?.reload, { seq: 1, error: null });
});

Deno.test("anything but a pid line and key=value lines is not a pidfile of ours", () => {
  for (
    const bad of [
      "",
      "\n",
      "123", // torn, or written by hand without a newline
      "0\n",
      "-5\n",
      "12a\n",
      "123\njunk",
      "123\njunk\n",
      " 123\n",
      "99999999\n",
      "4194305\n",
      "1e3\n",
      "123\nKEY=1\n",
    ]
  ) {
    assert.equal(parsePidFile(bad), null, JSON.stringify(bad));
  }
  assert.equal(parsePidFile("4194304\n")?.pid, 4194304);
  assert.equal(parsePidFile("1\nfuture_key=whatever\n")?.pid, 1, "unknown keys are ignored");
});
