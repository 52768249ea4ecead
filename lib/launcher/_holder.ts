// The process holding a pidfile's lock: found, proven by the kernel, and
// signalled, so that nothing but that process ever is. Shared by stop,
// reload and status.

import { DaemonError } from "../errors.ts";
import { type LockProof, procLockProof } from "../_proc.ts";
import { isCurrent, isFree, type PidFileContent, readPidFile } from "../pidfile.ts";
import { poll } from "../_poll.ts";
import { heldContent, probePidFile, removeStalePidFile } from "./_probe.ts";
import { SHELL } from "./_shell.ts";

function refuse(pidFile: string, pid: number, why: string): DaemonError {
  return new DaemonError(
    "BAD_PIDFILE",
    `pidFile "${pidFile}" names pid ${pid}, ${why}; refusing to signal it. ` +
      `Check the file, and remove it if no daemon of yours is running`,
  );
}

// Lists /proc/PID/fd, finds the descriptor that is the file "$2" (`-ef`:
// the same device and inode, both sides stat'ed alike, so it holds on btrfs
// and overlayfs too), and looks in its fdinfo for a granted exclusive flock.
// A zombie's descriptors read as root's; it holds nothing.
const PROOF_SCRIPT = `
d=/proc/$1
[ -d /proc/self/fdinfo ] || { echo no-proc; exit 0; }
[ -d "$d" ] || { echo not-holder; exit 0; }
if ! { [ -r "$d/fd" ] && [ -x "$d/fd" ]; }; then
  state= uid=
  while read -r key value rest; do
    case $key in State:) state=$value ;; Uid:) uid=$value ;; esac
  done 2>/dev/null <"$d/status"
  case $state in Z|X|'') echo not-holder ;; *) echo "other-user $uid" ;; esac
  exit 0
fi
for f in "$d"/fd/*; do
  [ "$f" -ef "$2" ] || continue
  while IFS= read -r line; do
    case $line in *'->'*) ;; 'lock:'*' FLOCK '*' WRITE '*) echo holder; exit 0 ;; esac
  done 2>/dev/null <"$d/fdinfo/\${f##*/}"
done
echo not-holder
`;

/**
 * Whether process `pid` holds an exclusive flock on the file at `path`, read
 * by one `/bin/sh`, which may read /proc where Deno (without --allow-all)
 * may not: for launchers granted only `--allow-run=/bin/sh,<deno>`, which
 * is what start needs. `denied` without that grant.
 */
export function shellLockProof(pid: number, path: string): LockProof {
  if (Deno.build.os !== "linux") return { kind: "no-proc" };
  if (Deno.permissions.querySync({ name: "run", command: SHELL }).state !== "granted") {
    return { kind: "denied", why: `Deno may not run ${SHELL} to read it instead` };
  }
  const out = new Deno.Command(SHELL, {
    args: ["-c", PROOF_SCRIPT, "daemonize", String(pid), path],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  const [said, uid] = new TextDecoder().decode(out.stdout).trim().split(" ");
  switch (said) {
    case "holder":
    case "not-holder":
    case "no-proc":
      return { kind: said };
    case "other-user":
      return { kind: "other-user", uid: uid ? Number(uid) : null };
    default:
      return { kind: "denied", why: `${SHELL} could not read /proc (exit ${out.code})` };
  }
}

/**
 * What the kernel shows about `pid` and the lock on the pidfile `file`
 * (opened from `path`): read in this process under --allow-all, else
 * through `/bin/sh` where that may be run. Never a guess: when neither may
 * look, the answer is `denied`.
 */
export function proveHolder(pid: number, file: Deno.FsFile, path: string): LockProof {
  const proof = procLockProof(pid, file.statSync());
  if (proof.kind !== "denied") return proof;
  const shell = shellLockProof(pid, path);
  if (shell.kind === "denied") {
    return { kind: "denied", why: `${proof.why}, and ${shell.why}` };
  }
  // The shell looked at the path: it must still be the file we hold open.
  return shell.kind === "holder" && !isCurrent(file, path) ? { kind: "not-holder" } : shell;
}

/**
 * Whether, within `ms`, the lock is released, the file is replaced, or the
 * pid written in it changes: a holder that had just taken the lock of a file
 * a crashed daemon left writes its own pid a moment later.
 */
async function changes(
  file: Deno.FsFile,
  path: string,
  pid: number | null,
  ms: number,
): Promise<boolean> {
  const changed = () =>
    isFree(file) || !isCurrent(file, path) || (readPidFile(file)?.pid ?? null) !== pid;
  return await poll(() => changed() ? true : undefined, ms, { first: 5, max: 5 }) ?? false;
}

export type Holder =
  | { kind: "none"; pid: number | null; stale: boolean; removed: boolean }
  | { kind: "holder"; pid: number; file: Deno.FsFile; content: PidFileContent };

/** Why `pid`, which cannot be proven the holder, cannot be a daemon either. */
function impossible(pid: number): string | null {
  if (pid === 1) return "which is init";
  if (pid === Deno.ppid) return "which is the process that ran this command";
  return null;
}

function unprovable(pidFile: string, pid: number, proof: LockProof): DaemonError {
  const what = `pid ${pid} (named by pidFile "${pidFile}")`;
  switch (proof.kind) {
    case "other-user":
      return new DaemonError(
        "PERMISSION",
        `${what} belongs to another user${
          proof.uid === null ? "" : ` (uid ${proof.uid})`
        }, whose processes this user may neither inspect nor signal; run this command as that user or as root`,
      );
    case "no-proc":
      return new DaemonError(
        "UNSUPPORTED",
        `cannot prove that ${what} holds the pidfile's lock: ${
          Deno.build.os === "linux" ? "/proc is not mounted" : `${Deno.build.os} has no /proc`
        }, and the proof reads Linux's /proc; refusing to signal a pid on trust`,
      );
    default:
      return new DaemonError(
        "PERMISSION",
        `cannot prove that ${what} holds the pidfile's lock: ${
          proof.kind === "denied" ? proof.why : "unknown"
        }; run with --allow-all, or grant --allow-run=${SHELL} (refusing to signal a pid on trust)`,
      );
  }
}

/**
 * The process that holds the pidfile's lock and the pid it wrote, proven by
 * the kernel (see `proveHolder`) so that nothing but that process is ever
 * signalled. A holder that goes away while it is being looked at (another
 * stop, its own exit) is looked for again rather than reported as a forgery.
 *
 * @throws {DaemonError} `BAD_PIDFILE` when the pid written is not the
 * holder; `PERMISSION` when this process may not look (see the message);
 * `UNSUPPORTED` without /proc.
 */
export async function findHolder(pidFile: string): Promise<Holder> {
  for (let attempt = 0;; attempt++) {
    const state = probePidFile(pidFile);
    if (state.kind === "missing") return { kind: "none", pid: null, stale: false, removed: false };
    if (state.kind === "stale") {
      return {
        kind: "none",
        pid: state.content?.pid ?? null,
        stale: true,
        removed: removeStalePidFile(pidFile),
      };
    }
    const { file } = state;
    const content = state.content ?? await heldContent(file, 1000);
    const pid = content?.pid ?? null;
    let proof: LockProof | null = null;
    let why: string | null = null;
    if (pid === null) why = "no valid pid";
    else if (pid === Deno.pid) why = "which is this very process";
    else {
      proof = proveHolder(pid, file, pidFile);
      if (proof.kind === "holder") return { kind: "holder", pid, file, content: content! };
      if (proof.kind === "not-holder") why = "which does not hold its lock";
      else if (proof.kind !== "other-user") why = impossible(pid);
    }

    const changed = await changes(
      file,
      pidFile,
      pid,
      why === "which does not hold its lock" ? 500 : 0,
    );
    file.close();
    if (changed && attempt < 5) continue;
    if (pid === null) {
      throw new DaemonError(
        "BAD_PIDFILE",
        `pidFile "${pidFile}" is locked but holds no valid pid; refusing to signal anything. Find the holder with: fuser ${pidFile}`,
      );
    }
    if (why === null) throw unprovable(pidFile, pid, proof!);
    throw refuse(pidFile, pid, why);
  }
}
