// systemd's readiness protocol (sd_notify): one datagram, "READY=1" or
// "STOPPING=1", to the Unix socket named by NOTIFY_SOCKET. Deno can send it
// only under --unstable-net (Deno.listenDatagram); otherwise, and for
// abstract sockets ("@..."), which Deno does not take, the systemd-notify
// command sends it (the unit then needs NotifyAccess=all, since it sends
// from its own pid).

const VARIABLE = "NOTIFY_SOCKET";

interface DatagramConn {
  send(data: Uint8Array, addr: { transport: "unixpacket"; path: string }): Promise<number>;
  close(): void;
}
type ListenDatagram = (options: { transport: "unixpacket"; path: string }) => DatagramConn;

function notifySocket(): string | null {
  if (Deno.permissions.querySync({ name: "env", variable: VARIABLE }).state !== "granted") {
    return null;
  }
  return Deno.env.get(VARIABLE) || null;
}

async function viaSocket(socket: string, state: string): Promise<boolean> {
  const listen = (Deno as unknown as { listenDatagram?: ListenDatagram }).listenDatagram;
  if (listen === undefined || socket.startsWith("@")) return false;
  const dir = Deno.makeTempDirSync({ prefix: "daemonize-notify-" });
  const conn = listen({ transport: "unixpacket", path: `${dir}/s` });
  try {
    await conn.send(new TextEncoder().encode(state), { transport: "unixpacket", path: socket });
    return true;
  } finally {
    conn.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

async function viaCommand(state: string): Promise<boolean> {
  const args = state === "READY=1" ? ["--ready"] : [state];
  const out = await new Deno.Command("systemd-notify", { args, stdout: "null", stderr: "null" })
    .output();
  return out.success;
}

/**
 * Sends `state` when NOTIFY_SOCKET is set. Resolves to an error message
 * when it could not be sent, null otherwise (sent, or not asked for).
 */
export async function sdNotify(state: "READY=1" | "STOPPING=1"): Promise<string | null> {
  const socket = notifySocket();
  if (socket === null) return null;
  try {
    if (await viaSocket(socket, state)) return null;
  } catch (err) {
    return `cannot notify systemd at ${socket}: ${String(err)}`;
  }
  try {
    if (await viaCommand(state)) return null;
    return `systemd-notify ${state} failed`;
  } catch (err) {
    return `cannot notify systemd (${state}): run with --unstable-net, or install systemd-notify and allow running it (${
      String(err)
    })`;
  }
}
