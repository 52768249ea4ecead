// The two log formats against LogTape's own formatters, on records made by
// real LogTape loggers (whose `message` is parsed lazily from the template).

import assert from "node:assert/strict";
import {
  configureSync,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  lazy,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";
import { jsonFormatter, textFormatter } from "../lib/daemon/_format.ts";

const LEVELS: LogRecord["level"][] = ["trace", "debug", "info", "warning", "error", "fatal"];

/** Records as LogTape's loggers make them, from `log(logger)` calls. */
function capture(log: (logger: ReturnType<typeof getLogger>) => void): LogRecord[] {
  const records: LogRecord[] = [];
  configureSync({
    reset: true,
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category: [], sinks: ["capture"], lowestLevel: "trace" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal", parentSinks: "override" },
    ],
  });
  try {
    log(getLogger(["app", "db"]));
  } finally {
    resetSync();
  }
  return records;
}

const error = new Error("boom");
const circular: Record<string, unknown> = { name: "loop" };
circular.self = circular;

// Every kind of template and value the formats have to get right.
function variety(logger: ReturnType<typeof getLogger>): void {
  logger.info("listening on http://{host}:{port}/", { host: "127.0.0.1", port: 18080 });
  logger.info("{method} {path} {status}", { method: "GET", path: "/item/1", status: 200 });
  logger.info("request {i} served in {ms} ms", { i: 7, ms: 1.25 });
  logger.info("plain line");
  logger.info("plain with props", { a: 1 });
  logger.info("numbers {a} {b} {c} {d} {e} {f}", {
    a: -0,
    b: NaN,
    c: Infinity,
    d: 1.5e21,
    e: 12345678901234567890n,
    f: -42,
  });
  logger.info("others {a} {b} {c} {d}", { a: null, b: undefined, c: true, d: false });
  logger.info("objects {a} {b} {c} {d}", {
    a: { id: 7, tags: ["x", "y"] },
    b: [1, "two", { three: 3 }],
    c: new Date(Date.UTC(2026, 0, 2)),
    d: circular,
  });
  logger.error("failed: {error}", { error });
  logger.info("missing {nothing} here", {});
  logger.info("nested {user.name} {list[1]} {user?.id}", {
    user: { name: "ann", id: 3 },
    list: [1, 2],
  });
  logger.info("star {*}", { x: 1 });
  logger.info("spaced { a } and {b }", { a: 1, "b ": 2, b: 3 });
  logger.info("escaped {{literal}} and }} and {{ and {x}", { x: "y" });
  logger.info("unclosed {brace and {x}", { x: 1 });
  logger.info("no braces but }} stays", { x: 1 });
  logger.info("empty key {}", { "": "e" });
  logger.info("value with newline {v}", { v: "one\ntwo\r\nthree" });
  logger.info("value with escapes {v}", { v: "\x1b[31mred\x1b[0m \x07 \x9b \x7f tab\there" });
  logger.info("template with \x1b[1mbold\x1b[0m, bell \x07, newline\nand {v}", { v: "x" });
  logger.info("plain bell \x07 and \x1b[2J clear");
  logger.info("surrogates {v} \ud800", { v: "\udfff 🙂" });
  logger.info("quotes {v}", { v: 'she said "hi" \\ backslash' });
  logger.info("symbol {s} function {f}", { s: Symbol("s"), f: function named() {} });
  logger.info("lazy {v}", { v: lazy(() => "computed") });
  logger.info("order {b} then {a}", { a: 1, b: 2 });
  logger.info("twice {a} and {a}", { a: "x" });
  logger.info("extra {a}", { a: 1, more: "m" });
  logger.info("fewer {a} {b}", { a: 1 });
  logger.info("undefined {a} {b}", { a: undefined, b: 1 });
  logger.info("json-escaped {a} {b}", { a: 'q"uote\\', b: "tab\there\u0001" });
  logger.info("c1 key {k\u0085}", { "k\u0085": 1 });
  logger.info("zeros {a} {b} {c}", { a: -0, b: 0, c: -1.5 });
  logger.with({ request: "r1" }).info("with context {request} {extra}", { extra: 2 });
  logger.info`tagged ${"string"} and ${42} and ${{ o: 1 }}`;
  logger.info({ only: "properties" });
  logger.getChild("child").warn("child {v}", { v: "w" });
  getLogger(["cat\x1b[31m", "with\nnewline"]).info("odd category");
  getLogger([]).info("root category");
  for (const level of LEVELS) logger[level]("level {level}", { level });
}

Deno.test("text: byte for byte LogTape's text formatter with value: 'bare'", () => {
  const ours = textFormatter();
  const bare = getTextFormatter({ value: "bare" });
  const records = capture(variety);
  assert.ok(records.length > 30, `${records.length} records`);
  for (const record of records) assert.equal(ours(record), bare(record));
  // A second pass goes through the template cache.
  for (const record of records) assert.equal(ours(record), bare(record));
});

Deno.test("text: strings are written as themselves, not quoted", () => {
  const format = textFormatter();
  const [a, b] = capture((logger) => {
    logger.info("listening on http://{host}:{port}/", { host: "127.0.0.1", port: 18080 });
    logger.info("{method} {path} {status}", { method: "GET", path: "/item/1", status: 200 });
  });
  assert.match(format(a), /\[INF\] app·db: listening on http:\/\/127\.0\.0\.1:18080\/\n$/);
  assert.match(format(b), /\[INF\] app·db: GET \/item\/1 200\n$/);
});

Deno.test("text: the date, level and category of every kind of timestamp", () => {
  const ours = textFormatter();
  const bare = getTextFormatter({ value: "bare" });
  const times = [0, 7, 59, 999, 1000, 1001, Date.UTC(2026, 0, 1, 23, 59, 59, 999), 1764313509123.6];
  for (const level of LEVELS) {
    for (const timestamp of times) {
      for (const category of [[], ["x"], ["app", "db", "pool"]]) {
        const record: LogRecord = {
          category,
          level,
          message: ["plain message"],
          rawMessage: "plain message",
          properties: {},
          timestamp,
        };
        assert.equal(ours(record), bare(record));
      }
    }
  }
});

Deno.test("text: one template, many values; more templates than the cache holds", () => {
  const ours = textFormatter();
  const bare = getTextFormatter({ value: "bare" });
  const records = capture((logger) => {
    for (let i = 0; i < 3000; i++) {
      logger.info(`template ${i % 1500} {i} {s}`, { i, s: `s${i}` });
      logger.info("same {i} {s}", { i, s: i % 2 ? "odd" : { even: i } });
    }
  });
  for (const record of records) assert.equal(ours(record), bare(record));
});

// What LogTape's JSON Lines formatter writes for `record` when the message
// is rendered as the text format renders it (strings bare), unsanitised.
const renderBare = getTextFormatter({
  value: "bare",
  sanitize: false,
  format: ({ message }) => message,
});
function expectedJson(record: LogRecord): string {
  return getJsonLinesFormatter()({
    category: record.category,
    level: record.level,
    timestamp: record.timestamp,
    rawMessage: record.rawMessage,
    properties: record.properties,
    message: [renderBare(record).slice(0, -1)],
  });
}

Deno.test("json: LogTape's JSON Lines fields and serialisation, the message rendered with strings bare", () => {
  const ours = jsonFormatter();
  for (const record of capture(variety)) {
    const line = ours(record);
    assert.equal(line, expectedJson(record));
    assert.ok(line.endsWith("}\n") && !line.slice(0, -1).includes("\n"), line);
    JSON.parse(line);
  }
});

Deno.test("json: one parseable object per record with timestamp, level, message, logger and properties", () => {
  const format = jsonFormatter();
  const [record] = capture((logger) =>
    logger.warn("listening on http://{host}:{port}/", { host: "127.0.0.1", port: 18080 })
  );
  const object = JSON.parse(format(record));
  assert.deepEqual(Object.keys(object), ["@timestamp", "level", "message", "logger", "properties"]);
  assert.equal(object["@timestamp"], new Date(record.timestamp).toISOString());
  assert.equal(object.level, "WARN");
  assert.equal(object.message, "listening on http://127.0.0.1:18080/");
  assert.equal(object.logger, "app.db");
  assert.deepEqual(object.properties, { host: "127.0.0.1", port: 18080 });
});
