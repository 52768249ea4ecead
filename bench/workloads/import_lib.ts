// One Deno boot that loads the library's module graph and exits: what every
// command of a script pays before it does anything (compare empty.ts).
import "@daemonize/daemon";
