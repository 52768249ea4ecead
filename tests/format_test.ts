// The log format's fast path writes exactly what LogTape's default text
// formatter writes.

import assert from "node:assert/strict";
import { getTextFormatter, type LogRecord } from "@logtape/logtape";
import { textFormatter } from "../lib/daemon/_format.ts";

function record(over: Partial<LogRecord>): LogRecord {
  return {
    category: ["app", "db"],
    level: "info",
    message: ["plain message"],
    rawMessage: "plain message",
    properties: {},
    timestamp: Date.UTC(2026, 10, 28, 7, 5, 9, 7),
    ...over,
  };
}

Deno.test("the fast path formats plain messages exactly as LogTape's text formatter", () => {
  const fast = textFormatter();
  const logtape = getTextFormatter();
  const levels: LogRecord["level"][] = ["trace", "debug", "info", "warning", "error", "fatal"];
  const times = [0, 7, 59, 999, 1000, 1001, Date.UTC(2026, 0, 1, 23, 59, 59, 999), 1764313509123.6];
  for (const level of levels) {
    for (const timestamp of times) {
      for (const category of [[], ["x"], ["app", "db", "pool"]]) {
        const r = record({ level, timestamp, category });
        assert.equal(fast(r), logtape(r));
      }
    }
  }
});

Deno.test("messages with values go through LogTape's own formatter", () => {
  const fast = textFormatter();
  const r = record({ message: ["tick ", 42, ""], rawMessage: "tick {n}", properties: { n: 42 } });
  assert.equal(fast(r), getTextFormatter()(r));
});
