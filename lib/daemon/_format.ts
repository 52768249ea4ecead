// The two log line formats, `"text"` and `"json"`, with the work a line
// shares with the lines before it done once: a message template is parsed
// once (not once per line, as LogTape's lazy `record.message` does), the
// date text is reused within each second and the category text per logger.
// Strings are written as themselves in both formats; other values as
// LogTape's text formatter renders them.
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

const MAX_TEMPLATES = 1024;

// Control characters LogTape's sanitizer rewrites (tab and, in template text,
// newlines stay); the scan is what keeps the common clean string cheap.
function hasControl(text: string, newlines: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32) {
      if (c === 9 || (!newlines && (c === 10 || c === 13))) continue;
      return true;
    }
    if (c >= 127 && c <= 159) return true;
  }
  return false;
}

function cleanTemplate(text: string): string {
  return hasControl(text, false) ? sanitizeControlSequences(text) : text;
}

function cleanValue(text: string): string {
  return hasControl(text, true)
    ? sanitizeControlSequences(text, { sgr: "escape", newlines: "escape" })
    : text;
}

/** A non-string value as LogTape's text formatter renders it. */
export function inspectValue(value: unknown): string {
  switch (typeof value) {
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "undefined";
    case "bigint":
      return `${value}n`;
  }
  if (value === null) return "null";
  return Deno.inspect(value, { strAbbreviateSize: Infinity, iterableLimit: Infinity });
}

// A message template parsed once: its text parts (as LogTape's
// parseMessageTemplate cuts and unescapes them) and the property each gap
// names. Templates whose keys LogTape resolves in other ways (nested paths,
// `*`, spaces) are left to LogTape (null).
interface Template {
  texts: string[];
  clean: string[];
  keys: string[];
  /** `"key":` for each key, as JSON.stringify and LogTape write it. */
  keysJson: string[];
  /** True when no text part needs escaping in a JSON string. */
  jsonSafe: boolean;
}

type Templates = Map<string, Template | null>;

/** The parsed template of a record from `logger.info("...", props)`, or null. */
function templateOf(templates: Templates, raw: string): Template | null {
  let template = templates.get(raw);
  if (template === undefined) {
    if (templates.size >= MAX_TEMPLATES) templates.clear();
    template = parseTemplate(raw);
    templates.set(raw, template);
  }
  return template;
}

function parseTemplate(template: string): Template | null {
  const texts: string[] = [];
  const keys: string[] = [];
  const length = template.length;
  let start = 0;
  for (let i = 0; i < length; i++) {
    const char = template[i];
    if (char === "{") {
      if (i + 1 < length && template[i + 1] === "{") {
        i++;
        continue;
      }
      const close = template.indexOf("}", i + 1);
      if (close === -1) continue;
      const key = template.slice(i + 1, close);
      if (key.trim() !== key || key === "*" || /[.[]/.test(key)) return null;
      texts.push(template.slice(start, i).replace(/{{/g, "{").replace(/}}/g, "}"));
      keys.push(key);
      i = close;
      start = i + 1;
    } else if (char === "}" && i + 1 < length && template[i + 1] === "}") {
      i++;
    }
  }
  texts.push(template.slice(start).replace(/{{/g, "{").replace(/}}/g, "}"));
  const keysJson = keys.map((key) => escapeC1(JSON.stringify(key)) + ":");
  const jsonSafe = texts.every((t) => jsonString(t).length === t.length + 2);
  return { texts, clean: texts.map(cleanTemplate), keys, keysJson, jsonSafe };
}

/**
 * Renders messages: strings as themselves, other values through
 * {@linkcode inspectValue}. `sanitize` frees the text of terminal control
 * characters as the text format needs; JSON escapes them itself.
 */
function messageRenderer(sanitize: boolean): (record: LogRecord) => string {
  const templates: Templates = new Map();
  const value = sanitize
    ? (v: unknown) => typeof v === "string" ? cleanValue(v) : inspectValue(v)
    : (v: unknown) => typeof v === "string" ? v : inspectValue(v);
  const text = sanitize ? cleanTemplate : (t: string) => t;

  function generic(message: readonly unknown[]): string {
    let out = text(message[0] as string);
    for (let i = 1; i < message.length; i += 2) {
      out += value(message[i]) + text(message[i + 1] as string);
    }
    return out;
  }

  return (record) => {
    const raw: unknown = record.rawMessage;
    // LogTape's records from logger.info("...", props) parse `rawMessage`
    // against `properties` when `message` is read; the same parse is
    // done here once per template. Other records carry their message.
    if (typeof raw !== "string") return generic(record.message);
    if (!raw.includes("{")) return text(raw);
    const template = templateOf(templates, raw);
    if (template === null) return generic(record.message);
    const parts = sanitize ? template.clean : template.texts;
    const keys = template.keys;
    const properties = record.properties;
    let out = parts[0];
    for (let i = 0; i < keys.length; i++) {
      out += value(properties[keys[i]]) + parts[i + 1];
    }
    return out;
  };
}

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

// JSON.stringify leaves DEL and the C1 range raw; LogTape escapes them too.
function hasC1(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 127 && c <= 159) return true;
  }
  return false;
}

function escapeC1(json: string): string {
  return json.replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// A string as JSON.stringify writes it, C1 escaped as LogTape does; most
// messages need no escaping at all, and a scan finds that out sooner.
function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 127 && c <= 159) || (c >= 0xd800 && c <= 0xdfff)) {
      const json = JSON.stringify(text);
      return hasC1(text) ? escapeC1(json) : json;
    }
  }
  return `"${text}"`;
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
