// One Deno boot that loads LogTape and exits: what every command of a script
// that imports LogTape at its top pays for it (compare empty.ts).
import "@logtape/logtape";
