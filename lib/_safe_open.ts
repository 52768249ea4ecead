// Opening files the library owns (pidfile, log, raw output) without ever
// following a symlink or touching something that is not a regular file.
// Deno has no O_NOFOLLOW, so: lstat first; create only with O_EXCL (which
// fails on any symlink, dangling ones included); open an existing file
// without O_CREAT and check that the handle is the inode lstat saw.

import { DaemonError, type DaemonErrorCode } from "./errors.ts";

/** Which file this is, for messages: the option that names it and the error code. */
export interface FileRole {
  option: "pidFile" | "logFile" | "stdout" | "stderr" | "stdin";
  code: DaemonErrorCode;
}

export interface OpenMode {
  read?: boolean;
  write?: boolean;
  append?: boolean;
  /** Create the file when it is missing. */
  create?: boolean;
  /**
   * The exact mode to create it with, whatever the process umask. Default:
   * 0o644 less the process umask.
   */
  createMode?: number;
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/**
 * Whether `err` is EPERM ("operation not permitted"), which file modes do
 * not explain, unlike EACCES ("permission denied").
 */
export function isNotPermitted(err: unknown): boolean {
  return err instanceof Deno.errors.PermissionDenied &&
    (err as { code?: unknown }).code === "EPERM";
}

/**
 * What EPERM on `path` means, for a message: for root only an immutable or
 * append-only file or directory refuses it (no mode does); for others also
 * a sticky directory and another user's file.
 */
export function notPermitted(path: string): string {
  const root = Deno.build.os !== "windows" && myUid() === 0;
  return `operation not permitted: "${path}" or its directory ${
    dirname(path)
  } is immutable or append-only (see lsattr -d; chattr -i or -a, as root, clears it)${
    root ? "" : ", or the directory is sticky and the file belongs to another user"
  }`;
}

/** Turns an error from the file system into a DaemonError naming the file. */
function fileError(
  err: unknown,
  role: FileRole,
  path: string,
): DaemonError {
  if (err instanceof DaemonError) return err;
  const what = `${role.option} "${path}"`;
  if (err instanceof Deno.errors.NotCapable) {
    return new DaemonError(
      "PERMISSION",
      `Deno denied access to ${what}: grant it with --allow-read and --allow-write (scoped to ${
        dirname(path)
      }) in the command and in the "denoArgs" option`,
      { cause: err },
    );
  }
  if (isNotPermitted(err)) {
    return new DaemonError("PERMISSION", `cannot open ${what}: ${notPermitted(path)}`, {
      cause: err,
    });
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return new DaemonError(
      "PERMISSION",
      `cannot open ${what}: permission denied; make ${
        dirname(path)
      } writable by this user or choose another path`,
      { cause: err },
    );
  }
  if (err instanceof Deno.errors.NotFound) {
    return new DaemonError(
      role.code,
      `directory ${dirname(path)} of ${what} does not exist; create it first`,
      { cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DaemonError(role.code, `cannot open ${what}: ${message}`, {
    cause: err,
  });
}

function myUid(): number | null {
  return Deno.permissions.querySync({ name: "sys", kind: "uid" }).state === "granted"
    ? Deno.uid()
    : null;
}

// A file in a directory others can write to can be swapped or pre-created
// by them (and a pre-created pidfile could even be locked by them).
function checkDirectory(path: string, role: FileRole, existing: Deno.FileInfo | null): void {
  const dir = Deno.statSync(dirname(path));
  if (!dir.isDirectory) {
    throw new DaemonError(
      role.code,
      `${dirname(path)}, the directory of ${role.option} "${path}", is not a directory`,
    );
  }
  const mode = dir.mode ?? 0;
  const what = `${role.option} "${path}"`;
  if ((mode & 0o022) === 0) return;
  // Others can put a file of theirs here: one that is not ours (or root's)
  // is never trusted, whatever it says.
  const uid = myUid();
  if (existing !== null && uid !== null && existing.uid !== uid && existing.uid !== 0) {
    throw new DaemonError(
      role.code,
      `${what} belongs to uid ${existing.uid}, not to you, in ${
        dirname(path)
      }, which others can write; remove it or use a directory only you can write`,
    );
  }
  if ((mode & 0o002) === 0) return;
  if ((mode & 0o1000) === 0) {
    throw new DaemonError(
      role.code,
      `directory ${
        dirname(path)
      } of ${what} is writable by everyone and not sticky, so anyone could replace the file; use a directory only you can write`,
    );
  }
}

/**
 * Checks what is at `path` without following a symlink. Returns null when
 * nothing is there; throws when it is anything but a regular file, or when
 * its directory lets others replace it.
 */
export function inspectPath(path: string, role: FileRole): Deno.FileInfo | null {
  let info: Deno.FileInfo | null;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw fileError(err, role, path);
    info = null;
  }
  const what = `${role.option} "${path}"`;
  if (info?.isSymlink) {
    throw new DaemonError(
      role.code,
      `${what} is a symlink; it is never followed, so point ${role.option} at a regular file`,
    );
  }
  if (info?.isDirectory) {
    throw new DaemonError(role.code, `${what} is a directory; give a file path inside it`);
  }
  if (info !== null && !info.isFile) {
    throw new DaemonError(
      role.code,
      `${what} is not a regular file (a FIFO, socket or device?); choose another path`,
    );
  }
  try {
    if (role.option !== "stdin") checkDirectory(path, role, info);
  } catch (err) {
    throw fileError(err, role, path);
  }
  return info;
}

/** True when `a` and `b` are the same inode. */
export function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.ino !== null && a.ino === b.ino && a.dev === b.dev;
}

/**
 * Opens `path` as described in the file header. Returns null when the file
 * is missing and `create` is off.
 */
export function openOwnFile(
  path: string,
  role: FileRole,
  mode: OpenMode,
): Deno.FsFile | null {
  const create = (): Deno.FsFile | null => {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, {
        read: mode.read,
        write: mode.write || !mode.append,
        append: mode.append,
        createNew: true,
        mode: mode.createMode ?? 0o644,
      });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) return null; // there already (or a symlink)
      throw fileError(err, role, path);
    }
    // The mode asked for, not narrowed by the process umask (a launcher's
    // 077 where the daemon's umask option says 022). Just created with
    // O_EXCL, so the path names this file.
    if (mode.createMode !== undefined && Deno.build.os !== "windows") {
      try {
        if ((file.statSync().mode! & 0o7777) !== mode.createMode) {
          Deno.chmodSync(path, mode.createMode);
        }
      } catch { /* kept as created */ }
    }
    return file;
  };
  // The common case first, in one call: O_EXCL never follows a symlink, so
  // creating is safe once the directory has been checked.
  if (mode.create) {
    try {
      checkDirectory(path, role, null);
    } catch (err) {
      throw fileError(err, role, path);
    }
    const created = create();
    if (created !== null) return created;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = inspectPath(path, role);
    if (before === null) {
      if (!mode.create) return null;
      const created = create();
      if (created !== null) return created;
      continue; // created meanwhile: look again
    }
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: mode.read, write: mode.write, append: mode.append });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // removed meanwhile: look again
      throw fileError(err, role, path);
    }
    if (sameFile(file.statSync(), before)) return file;
    file.close(); // replaced between lstat and open: look again
  }
  throw new DaemonError(
    role.code,
    `${role.option} "${path}" keeps changing while it is opened; is another program replacing it?`,
  );
}
