// The launcher runs /bin/sh to set up the daemon's descriptors and umask
// before exec, and to signal where Deno.kill is not permitted.

export const SHELL = "/bin/sh";
