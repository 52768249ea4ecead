// systemd and containers: `run` speaks sd_notify when NOTIFY_SOCKET is set,
// and the shipped unit file is valid where systemd-analyze exists.

import assert from "node:assert/strict";
import { Sandbox, waitFor } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

interface Datagrams {
  received: string[];
  close(): void;
}

/** A stand-in for systemd's notification socket (needs --unstable-net). */
function fakeNotifySocket(path: string): Datagrams {
  const listen = (Deno as unknown as {
    listenDatagram(o: { transport: "unixpacket"; path: string }): {
      receive(): Promise<[Uint8Array, unknown]>;
      close(): void;
    };
  }).listenDatagram;
  const conn = listen({ transport: "unixpacket", path });
  const received: string[] = [];
  (async () => {
    try {
      for (;;) received.push(new TextDecoder().decode((await conn.receive())[0]));
    } catch { /* closed */ }
  })();
  return { received, close: () => conn.close() };
}

Deno.test("run sends READY=1 once ready and STOPPING=1 on SIGTERM to NOTIFY_SOCKET", async () => {
  await using sb = new Sandbox();
  const socket = fakeNotifySocket(sb.path("notify.sock"));
  try {
    const child = sb.command(["run"], {
      denoFlags: ["-A", "--unstable-net"],
      env: { NOTIFY_SOCKET: sb.path("notify.sock") },
    }).spawn();
    sb.extraPids.push(child.pid);
    await waitFor("READY=1", () => socket.received.includes("READY=1"));
    assert.match(sb.readLog(), /started fx/, "ready is sent after the daemon is up");
    child.kill("SIGTERM");
    assert.equal((await child.output()).code, 0);
    await waitFor("STOPPING=1", () => socket.received.includes("STOPPING=1"));
    assert.deepEqual(socket.received, ["READY=1", "STOPPING=1"]);
  } finally {
    socket.close();
  }
});

Deno.test("without --unstable-net, run falls back to the systemd-notify command", async () => {
  await using sb = new Sandbox();
  Deno.mkdirSync(sb.path("bin"));
  const fake = sb.path("bin/systemd-notify");
  Deno.writeTextFileSync(fake, `#!/bin/sh\necho "$@" >> "${sb.path("notify.txt")}"\n`);
  Deno.chmodSync(fake, 0o755);
  const child = sb.command(["run"], {
    env: {
      NOTIFY_SOCKET: "/run/systemd/notify-fake",
      PATH: `${sb.path("bin")}:${Deno.env.get("PATH")}`,
    },
  }).spawn();
  sb.extraPids.push(child.pid);
  await waitFor("--ready", () => sb.readLog("notify.txt").includes("--ready"));
  child.kill("SIGTERM");
  assert.equal((await child.output()).code, 0);
  await waitFor("STOPPING=1", () => sb.readLog("notify.txt").includes("STOPPING=1"));
  assert.equal(sb.readLog("notify.txt"), "--ready\nSTOPPING=1\n");
});

const UNIT = `${ROOT}examples/systemd/app.service`;

Deno.test("examples/systemd/app.service runs `run` as Type=notify, stops with SIGTERM within stopTimeout", () => {
  const unit = Deno.readTextFileSync(UNIT);
  assert.match(unit, /^Type=notify$/m);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^TimeoutStopSec=10$/m, "matches the default stopTimeout of 10 000 ms");
  assert.match(
    unit,
    /^ExecStart=\/usr\/bin\/deno run .* run$/m,
    "systemd runs the daemon in the foreground",
  );
});

function hasAnalyze(): boolean {
  try {
    return new Deno.Command("systemd-analyze", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false; // not installed
  }
}
const analyze = hasAnalyze();

Deno.test({
  name: `examples/systemd/app.service passes systemd-analyze verify${
    analyze ? "" : " (ignored: systemd-analyze is not installed; .ci/run installs it)"
  }`,
  ignore: !analyze,
  async fn() {
    // verify checks that ExecStart's binary exists: point it at this Deno,
    // wherever it is installed, in a copy.
    await using sb = new Sandbox();
    const copy = sb.path("app.service");
    Deno.writeTextFileSync(
      copy,
      Deno.readTextFileSync(UNIT).replace(
        "ExecStart=/usr/bin/deno ",
        `ExecStart=${Deno.execPath()} `,
      ),
    );
    const out = await new Deno.Command("systemd-analyze", { args: ["verify", copy] }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    assert.doesNotMatch(stderr, /app\.service/, "no warnings about the unit either");
  },
});
