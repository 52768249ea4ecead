// Log messages rendered the way both formats need: a message template is
// parsed once (not once per line, as LogTape's lazy `record.message` does),
// strings are written as themselves, other values as LogTape's text
// formatter renders them, and text is freed of terminal control characters
// the way LogTape does it (values also have their newlines escaped, so a
// value cannot forge a line). Used by lib/daemon/_format.ts.

import { type LogRecord, sanitizeControlSequences } from "@logtape/logtape";

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
function inspectValue(value: unknown): string {
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
export interface Template {
  texts: string[];
  clean: string[];
  keys: string[];
  /** `"key":` for each key, as JSON.stringify and LogTape write it. */
  keysJson: string[];
  /** True when no text part needs escaping in a JSON string. */
  jsonSafe: boolean;
}

export type Templates = Map<string, Template | null>;

/** The parsed template of a record from `logger.info("...", props)`, or null. */
export function templateOf(templates: Templates, raw: string): Template | null {
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
export function messageRenderer(sanitize: boolean): (record: LogRecord) => string {
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

// JSON.stringify leaves DEL and the C1 range raw; LogTape escapes them too.
export function hasC1(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 127 && c <= 159) return true;
  }
  return false;
}

export function escapeC1(json: string): string {
  return json.replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// A string as JSON.stringify writes it, C1 escaped as LogTape does; most
// messages need no escaping at all, and a scan finds that out sooner.
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 34 || c === 92 || (c >= 127 && c <= 159) || (c >= 0xd800 && c <= 0xdfff)) {
      const json = JSON.stringify(text);
      return hasC1(text) ? escapeC1(json) : json;
    }
  }
  return `"${text}"`;
}
