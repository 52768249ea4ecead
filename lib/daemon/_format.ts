// The two log line formats, `"text"` and `"json"`, with the work a line
// shares with the lines before it done once: the message template is parsed
// once (lib/daemon/_template.ts), the date text is reused within each second
// and the category text per logger. Strings are written as themselves in
// both formats; other values as LogTape's text formatter renders them.
//
// Text: LogTape's default text format with `value: "bare"`:
//   2026-11-28 07:05:09.007 +00:00 [INF] app·db: served GET /item/1 in 3 ms
// Template text and values are freed of terminal control characters the way
// LogTape does it (values also have their newlines escaped, so a value
// cannot forge a line).
//
// JSON Lines: LogTape's `getJsonLinesFormatter()` fields, with the message
// rendered as in the text format:
//   {"@timestamp":"2026-11-28T07:05:09.007Z","level":"INFO","message":"…","logger":"app.db","properties":{…}}

import { getJsonLinesFormatter, type LogRecord, sanitizeControlSequences } from "@logtape/logtape";
import {
  escapeC1,
  hasC1,
  jsonString,
  messageRenderer,
  templateOf,
  type Templates,
} from "./_template.ts";

/** Turns a record into one line of the log, newline included. */
export type Formatter = (record: LogRecord) => string;

const TEXT_LEVELS: Record<LogRecord["level"], string> = {
  trace: "TRC",
  debug: "DBG",
  info: "INF",
  warning: "WRN",
  error: "ERR",
  fatal: "FTL",
};

const JSON_LEVELS: Record<LogRecord["level"], string> = {
  trace: '"TRACE"',
  debug: '"DEBUG"',
  info: '"INFO"',
  warning: '"WARN"',
  error: '"ERROR"',
  fatal: '"FATAL"',
};

// The date text changes once a second; the milliseconds are added per line.
function clock(iso: boolean): (ts: number) => string {
  let second = NaN;
  let prefix = "";
  return (ts) => {
    const s = Math.floor(ts / 1000);
    if (s !== second) {
      second = s;
      const date = new Date(s * 1000).toISOString();
      prefix = iso ? date.slice(0, 20) : date.slice(0, 19).replace("T", " ") + ".";
    }
    const ms = Math.floor(ts - s * 1000);
    const three = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : `${ms}`;
    return iso ? `${prefix}${three}Z` : `${prefix}${three} +00:00`;
  };
}

/**
 * The text format: LogTape's default text formatter with `value: "bare"`,
 * byte for byte.
 */
export function textFormatter(): Formatter {
  const message = messageRenderer(true);
  const time = clock(false);
  const categories = new WeakMap<readonly string[], string>();
  return (record) => {
    let category = categories.get(record.category);
    if (category === undefined) {
      category = record.category.map((c) => sanitizeControlSequences(c, { sgr: "escape" })).join(
        "·",
      );
      categories.set(record.category, category);
    }
    return `${time(record.timestamp)} [${TEXT_LEVELS[record.level]}] ${category}: ${
      message(record)
    }\n`;
  };
}

// Properties JSON.stringify writes exactly as LogTape's replacers would,
// with nothing to escape beyond what it escapes.
function plainProperties(properties: Record<string, unknown>): boolean {
  for (const key in properties) {
    const v = properties[key];
    const t = typeof v;
    if (t === "string") {
      if (hasC1(v as string)) return false;
    } else if (t !== "number" && t !== "boolean" && v !== null && v !== undefined) {
      return false;
    }
    if (hasC1(key)) return false;
  }
  return true;
}

/**
 * The JSON Lines format: one object per record with LogTape's
 * `getJsonLinesFormatter()` fields (`@timestamp`, `level`, `message`,
 * `logger`, `properties`), the message rendered as in the text format.
 */
export function jsonFormatter(): Formatter {
  const message = messageRenderer(false);
  const time = clock(true);
  const logtape = getJsonLinesFormatter();
  const categories = new WeakMap<readonly string[], string>();
  const templates: Templates = new Map();

  // The common record: a template whose placeholders name its properties,
  // in order, all strings, numbers, booleans or null. Message and properties
  // are then written in one pass, each value converted once.
  function direct(record: LogRecord, category: string): string | null {
    const raw: unknown = record.rawMessage;
    if (typeof raw !== "string" || !raw.includes("{")) return null;
    const template = templateOf(templates, raw);
    if (template === null) return null;
    const { texts, keys, keysJson } = template;
    const properties = record.properties;
    let text = texts[0];
    let json = "{";
    let safe = template.jsonSafe;
    let i = 0;
    for (const key in properties) {
      if (key !== keys[i]) return null;
      const v = properties[key];
      let shown: string;
      let encoded: string;
      if (typeof v === "number") {
        shown = Object.is(v, -0) ? "-0" : String(v);
        encoded = Number.isFinite(v) ? (v === 0 ? "0" : shown) : "null";
      } else if (typeof v === "string") {
        shown = v;
        encoded = jsonString(v);
        if (encoded.length !== v.length + 2) safe = false;
      } else if (typeof v === "boolean" || v === null) {
        shown = encoded = String(v);
      } else {
        return null;
      }
      text += shown + texts[i + 1];
      json += (i === 0 ? "" : ",") + keysJson[i] + encoded;
      i++;
    }
    if (i !== keys.length) return null;
    return `{"@timestamp":"${time(record.timestamp)}","level":${
      JSON_LEVELS[record.level]
    },"message":${
      safe ? `"${text}"` : jsonString(text)
    },"logger":${category},"properties":${json}}}\n`;
  }

  return (record) => {
    let category = categories.get(record.category);
    if (category === undefined) {
      category = escapeC1(JSON.stringify(record.category.join(".")));
      categories.set(record.category, category);
    }
    const line = direct(record, category);
    if (line !== null) return line;
    const text = message(record);
    const properties = record.properties;
    if (!plainProperties(properties)) {
      // Errors, bigints, cycles, toJSON: LogTape's own serialisation.
      return logtape({
        category: record.category,
        level: record.level,
        timestamp: record.timestamp,
        message: [text],
        rawMessage: record.rawMessage,
        properties,
      });
    }
    return `{"@timestamp":"${time(record.timestamp)}","level":${
      JSON_LEVELS[record.level]
    },"message":${jsonString(text)},"logger":${category},"properties":${
      JSON.stringify(properties)
    }}\n`;
  };
}

/** The formatter for `logFormat`. */
export function formatter(format: "text" | "json"): Formatter {
  return format === "json" ? jsonFormatter() : textFormatter();
}
