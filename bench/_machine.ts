// What the figures were taken on.

/** The machine and software the bench ran on. */
export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  deno: string;
  v8: string;
  /** /proc/loadavg's 1, 5 and 15 minute figures, before and after the runs. */
  loadAverageStart: string;
  loadAverageEnd: string;
  peers: Record<string, string>;
}

function read(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, success } = await new Deno.Command(cmd, { args, stderr: "null" }).output();
    return success ? new TextDecoder().decode(stdout).trim() : "";
  } catch {
    return "";
  }
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverage(): string {
  return read("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** Reads /proc and asks the peers their versions (untimed, before the runs). */
export async function describeMachine(bench: string): Promise<Machine> {
  const cpuinfo = read("/proc/cpuinfo");
  const meminfo = /^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo"));
  const peers: Record<string, string> = {};
  for (const pkg of ["dpkg", "daemonize", "python3-daemon"]) {
    const version = await output("dpkg-query", ["-W", "-f=${Version}", pkg]);
    if (version !== "") peers[pkg] = version;
  }
  const python = await output("/usr/bin/python3", ["--version"]);
  if (python !== "") peers.python3 = python.replace(/^Python /, "");
  try {
    const pkg = JSON.parse(read(`${bench}/.peers/node_modules/pm2/package.json`)) as {
      version: string;
    };
    peers.pm2 = pkg.version;
    peers.node = (await output("node", ["--version"])).replace(/^v/, "");
  } catch { /* not installed */ }
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? "unknown",
    cores: cpuinfo.match(/^processor\s*:/gm)?.length ?? navigator.hardwareConcurrency,
    memoryGiB: meminfo === null ? 0 : Math.round(Number(meminfo[1]) / 1024 / 1024),
    kernel: Deno.osRelease(),
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(read("/etc/os-release"))?.[1] ?? Deno.build.os,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    loadAverageStart: loadAverage(),
    loadAverageEnd: "",
    peers,
  };
}
