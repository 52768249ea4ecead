// The daemon's side of the keeper's channel (lib/launcher/_keeper.ts): a
// line on raw stderr (or stdout) that carries the launch nonce is a message
// to the keeper. Only the daemon knows the nonce; it never reaches the
// program's children.

import type { ReadyMessage } from "../_launch.ts";

const encoder = new TextEncoder();

/** Messages from a started daemon to its keeper and launcher. */
export class KeeperChannel {
  #nonce: string;
  #told = false;

  constructor(nonce: string) {
    this.#nonce = nonce;
  }

  #send(stream: "stdout" | "stderr", text: string): void {
    try {
      (stream === "stdout" ? Deno.stdout : Deno.stderr).writeSync(
        encoder.encode(`${this.#nonce} ${text}\n`),
      );
    } catch {
      // The keeper is gone: nobody is listening.
    }
  }

  /** Sends the one readiness message (later calls do nothing). */
  tell(message: ReadyMessage): void {
    if (this.#told) return;
    this.#told = true;
    this.#send("stderr", `${message.ok ? "ready" : "fail"} ${JSON.stringify(message)}`);
  }

  /** Tells the keeper to copy `stream`'s raw lines into `file` from now on. */
  target(stream: "stdout" | "stderr", file: Deno.FsFile): void {
    const info = file.statSync();
    this.#send(stream, `target ${Deno.pid} ${info.dev}:${info.ino}`);
  }
}
