// The directory a command runs in, as the user reached it: the base for
// relative paths. Through a symlink (`current -> releases/v2`) the kernel's
// working directory is the physical one, which changes when the link is
// switched; the shell's logical `PWD` keeps naming the same place, so that
// the same directory, reached through the same path, always names the same
// pidfile.

import { sameFile } from "./_safe_open.ts";

/**
 * `PWD` when it is an absolute path without `.` or `..` parts that names
 * the current directory (same device and inode), else `Deno.cwd()`. Reading
 * `PWD` needs env permission (and stat-ing it read permission); without
 * them the physical directory is used, silently.
 */
export function launchDirectory(): string {
  const physical = Deno.cwd();
  if (Deno.build.os === "windows") return physical;
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "PWD" }).state !== "granted") {
      return physical;
    }
    const pwd = Deno.env.get("PWD");
    if (pwd === undefined || !pwd.startsWith("/") || pwd === physical) return physical;
    const parts = pwd.split("/").filter((part) => part !== "");
    if (parts.some((part) => part === "." || part === "..")) return physical;
    const logical = "/" + parts.join("/");
    return sameFile(Deno.statSync(logical), Deno.statSync(physical)) ? logical : physical;
  } catch {
    return physical;
  }
}
