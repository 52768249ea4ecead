// The keeper: the /bin/sh program that `start` runs detached (its own
// session, no terminal) and that stays beside the daemon for its whole life.
//
//   K   the session leader. It opens no path (a session leader that opens a
//       terminal acquires it), starts the two below and waits.
//   K1  the keeper loop, K's child. It runs the program (W) as its own child,
//       so W is never a session leader and can never acquire a controlling
//       terminal, and reports W's death before ready to the launcher. With a
//       restart policy it also holds the pidfile's lock (flock(1)) across
//       restarts, restarts W, and writes the pidfile itself.
//   C   the copier, K's other child (lib/launcher/_copier.ts): W's raw
//       stderr (and stdout) arrive on a pipe, and C appends each line to the
//       raw output file; W's own messages go on to the launcher.
//   Once W has ended, K1 ends what it left in its group (lib/launcher/_sweep.ts).
//
// To the launcher (fd 3, a pipe) go JSON lines, and "raw <text>" (stderr) or
// "rawout <text>" (stdout) for raw output that came before W named its file.
// Arguments, by position: 1 umask, 2 stdin path, 3 stdout: null | same |
// pipe, 4 nonce, 5 restart policy, 6 restartDelay ms, 7 maxRestarts,
// 8 pidfile for the keeper's lock (empty: W locks it), 9 its dev:ino,
// 10 log format, 11 daemon name, 12 SIGUSR1: block | probe | deliver,
// 13 and 14 the dev:ino of the stderr and stdout files the launcher holds
// open (empty for none), 15 stopTimeout ms; then the program's command. The script
// itself is in $DAEMONIZE_KEEPER (so that it can start itself again).
// POSIX sh throughout (dash, bash, busybox ash); /proc where it exists.
// dash can name descriptors 0-9 only, and a failed redirection on `exec`
// ends the shell unless it goes through `command`.

import { COPIER } from "./_copier.ts";
import { SWEEP } from "./_sweep.ts";

/** The command line that runs the keeper: the script is in the environment. */
export const KEEPER_BOOT = 'eval "$DAEMONIZE_KEEPER"';

/** Whether process `pid` is a keeper (its command line is ours); false when /proc cannot tell. */
export function isKeeper(pid: number): boolean {
  try {
    const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    return argv[1] === "-c" && argv[2] === KEEPER_BOOT;
  } catch {
    return false;
  }
}

/** The environment variable that carries {@linkcode KEEPER}. */
export const KEEPER_ENV = "DAEMONIZE_KEEPER";

// For say's JSON lines: sed commands that write the control characters a
// message may hold (but the newline: sed works line by line) as JSON escapes, each matched by its
// raw byte, which POSIX sed takes where it takes no escape.
const JSON_CONTROLS = Array.from({ length: 31 }, (_, i) => i + 1)
  .filter((c) => c !== 10)
  .map((c) => `s/${String.fromCharCode(c)}/\\\\u${c.toString(16).padStart(4, "0")}/g`)
  .join("; ");

/** The keeper program. */
export const KEEPER = String.raw`
mask=$1 in=$2 out=$3 nonce=$4 policy=$5 delay=$6 max=$7 pidfile=$8 lockid=$9
umask "$mask"
stops="TERM INT QUIT"
others="USR1 USR2 ALRM VTALRM PROF IO PWR 16 XCPU XFSZ ABRT TRAP SYS"

# A caller's ignored or blocked signals survive exec, and a shell cannot trap
# a signal that was ignored when it started: start again with defaults.
if [ -z "$DAEMONIZE_CLEAN" ] && [ -r /proc/self/status ]; then
  # Signals 1-31 but SIGPIPE: glibc's real-time 32 and 33 read as ignored in
  # every child of Deno, and env cannot reset them.
  while read -r k v; do
    case $k in
      SigBlk:) case $v in *[!0]*) dirty=1 ;; esac ;;
      SigIgn:)
        [ $((0x${"$"}{v#????????} & 0x7FFFEFFF)) -ne 0 ] && dirty=1
        break
        ;;
    esac
  done </proc/self/status
  if [ -n "$dirty" ] && env --default-signal true 2>/dev/null; then
    export DAEMONIZE_CLEAN=1
    exec env --default-signal /bin/sh -c 'eval "$DAEMONIZE_KEEPER"' daemonize "$@"
  fi
fi
# Inherited descriptors above 9 are out of dash's reach: bash closes them.
for f in /proc/$$/fd/*; do
  case ${"$"}{f##*/} in ? | '*') ;; *) many=1 ;; esac
done
if [ -n "$many" ] && [ -z "$DAEMONIZE_CLOSED" ] && [ -x /bin/bash ]; then
  export DAEMONIZE_CLOSED=1
  exec /bin/bash -c 'for f in /proc/$$/fd/*; do n=${"$"}{f##*/}
    [ "$n" -gt 9 ] 2>/dev/null && eval "exec $n>&-"; done
    exec /bin/sh -c '"'"'eval "$DAEMONIZE_KEEPER"'"'"' daemonize "$@"' closer "$@"
fi
exec 3>&1 >/dev/null 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
shift 9
fmt=$1 name=$2 usr1=$3 errid=$4 outid=$5 grace=$6
shift 6
# A service manager's NOTIFY_SOCKET is for the process it started, never
# for a daemon started from it.
unset DAEMONIZE_CLEAN DAEMONIZE_CLOSED DAEMONIZE_KEEPER NOTIFY_SOCKET

# W gets SIGUSR1 blocked (Deno opens a debugger on it) and default
# dispositions where GNU env can do that (the launcher found out, or asks
# here); elsewhere W guards SIGUSR1 itself.
wrap=
case $usr1 in
  block) wrap="env --default-signal --block-signal=USR1" ;;
  probe) env --default-signal --block-signal=USR1 true 2>/dev/null &&
    wrap="env --default-signal --block-signal=USR1" ;;
esac

now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ 2>/dev/null | sed 's/\.[^0-9]*Z$/.000Z/'; }
# A lifecycle line in the log's format, written to the raw stream. (Shell
# functions share variables: say_ names are say's own.)
say() {
  say_t=$(now)
  if [ "$fmt" = json ]; then
    # Control characters as JSON escapes; lines (a path may hold a newline)
    # joined with \n.
    say_m=$(printf '%s' "$2" | sed 's/\\/\\\\/g; s/"/\\"/g; ${JSON_CONTROLS}' |
      awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }')
    printf '{"@timestamp":"%s","level":"%s","message":"%s","logger":"daemonize","properties":{}}\n' \
      "$say_t" "$1" "$say_m"
  else
    case $1 in INFO) say_l=INF ;; WARN) say_l=WRN ;; ERROR) say_l=ERR ;; *) say_l=FTL ;; esac
    say_c=${"$"}{say_t#*T}
    printf '%s %s +00:00 [%s] daemonize: %s\n' "${"$"}{say_t%%T*}" "${"$"}{say_c%Z}" "$say_l" "$2"
  fi
}
# To the launcher, through the copier, after everything the program wrote.
tell() { printf '%s %s\n' "$nonce" "$1"; }
why() {
  if [ "$1" -gt 128 ]; then echo "killed by SIG$(kill -l $(($1 - 128)))"; else echo "exit code $1"; fi
}

${COPIER}

${SWEEP}

# Opens the file at the pidfile's path as fd 8: made anew (never through a
# link) when there is none, else only a regular file of ours.
openpath() {
  if [ -e "$pidfile" ] || [ -L "$pidfile" ]; then
    [ -f "$pidfile" ] && [ ! -L "$pidfile" ] && { command exec 8<"$pidfile"; } 2>/dev/null &&
      [ -O /dev/fd/8 ] && [ /dev/fd/8 -ef "$pidfile" ] && [ ! -L "$pidfile" ] && return 0
    exec 8<&-
    return 1
  fi
  set -C
  { command exec 8>"$pidfile"; } 2>/dev/null
  op_rc=$?
  set +C
  return $op_rc
}

keeper() {
  # A copier killed (kill -9) must not take the keeper with it at its next line.
  trap '' PIPE
  # The program's stdout and stderr wait in fds 6 and 7. The keeper's own
  # lines (say, tell) go with the program's stderr, and what the shell
  # itself says ("Terminated", when a stop's TERM ends one of its commands)
  # goes nowhere: it is not a line of the log.
  exec 6>&1 7>&2 1>&2 2>/dev/null
  read -r me _ </proc/self/stat
  if [ -n "$pidfile" ]; then
    if ! command -v flock >/dev/null; then
      tell 'fail {"ok":false,"code":"UNSUPPORTED","message":"the restart option needs flock(1) (util-linux or busybox) to keep the lock between restarts; install it, or set restart to \"never\""}'
      exit 1
    fi
    if ! { command exec 9<"$pidfile"; } 2>/dev/null || [ "$(stat -Lc %d:%i /dev/fd/9)" != "$lockid" ]; then
      # A stop or another start removed or replaced the file the launcher
      # made: take the one there now, as the daemon itself would.
      exec 9<&-
      if ! openpath; then
        tell 'fail {"ok":false,"code":"BAD_PIDFILE","message":"pidFile changed while the daemon was starting, and the path is not a regular file of ours now"}'
        exit 1
      fi
      exec 9<&8 8<&-
    fi
    if ! flock -n 9; then
      tell 'fail {"ok":false,"code":"ALREADY_RUNNING","message":"already running"}'
      exit 0
    fi
    since=$(now)
    printf '%s\nstarted=%s\nstarting=1\nkeeper=1\n' "$me" "$since" >/dev/fd/9
  fi
  # Leaves for good: the pidfile goes while the lock is still held.
  leave() {
    [ "$1" = keep ] || { [ /dev/fd/9 -ef "$pidfile" ] && rm -f "$pidfile"; }
    exit "${"$"}{2:-0}"
  }
  # Passes signal $1 on to the program, with a lock only once it listens
  # for signals (it writes main=<its pid> after that): before, it would
  # die of a reload's SIGHUP.
  pass() {
    [ -n "$w" ] || return 0
    if [ -n "$pidfile" ]; then
      pass_ok=
      while read -r l; do [ "$l" = "main=$w" ] && pass_ok=1; done </dev/fd/9
      [ -n "$pass_ok" ] || return 0
    fi
    kill -$1 $w 2>/dev/null
  }
  # Takes the file now at the pidfile's path as the one to lock once nobody
  # holds it, or makes it again when it is gone; false when another
  # daemon holds the file there.
  mend() {
    [ /dev/fd/9 -ef "$pidfile" ] && return 0
    mend_why="cannot be made again, or is not a regular file of ours"
    openpath || return 1
    mend_why="now belongs to another daemon"
    # A status or a stop looks (a shared lock) for a moment.
    mend_n=0
    until flock -n 8; do
      mend_n=$((mend_n + 1))
      [ $mend_n -lt 5 ] || { exec 8<&-; return 1; }
      sleep 0.02
    done
    exec 9<&8 8<&-
    printf '%s\nstarted=%s\nkeeper=1\n%s' "$me" "$since" "$past" >/dev/fd/9
  }
  # The restart lines of the pidfile: kept when it is written again.
  stopping= w= s= past=
  # A stop keeps "starting=1" too: a program stopped before it was ready
  # is reported to the launcher (below), as one that failed.
  trap 'if [ -z "$stopping" ]; then stopping=1
    [ -n "$pidfile" ] && { tr_s=; while read -r l; do [ "$l" = starting=1 ] && tr_s="$l
"; done </dev/fd/9
    printf "%s\nstarted=%s\n%skeeper=1\n%sstopping=1\n" "$me" "$since" "$tr_s" "$past" >/dev/fd/9; kill -TERM 0; }; fi' $stops
  for sig in HUP $others; do trap "pass $sig" $sig; done
  restarts=0 fails=0 d=$delay first=1
  while :; do
    read -r up _ </proc/uptime
    $wrap "$@" <"$in" >&6 2>&7 3>&- 6>&- 7>&- 9>&- &
    w=$!
    # A stop whose group-wide TERM (the trap's) came just before this main
    # existed. (Without a pidfile of its own, the keeper sends none.)
    [ -n "$pidfile" ] && [ -n "$stopping" ] && kill -TERM $w 2>/dev/null
    while :; do
      wait $w 2>/dev/null
      st=$?
      kill -0 $w 2>/dev/null || break
    done
    w=
    [ -z "$stopping" ] && sweep
    if [ -z "$pidfile" ]; then
      # Deaths the program could not have logged itself: SIGKILL, crashes.
      case $st in
        132 | 133 | 134 | 135 | 136 | 137 | 139 | 159 | 16[2-9] | 1[7-9][0-9])
          say ERROR "$name ended ($(why $st))"
          ;;
      esac
      tell "exit $st"
      exit 0
    fi
    if [ -n "$first" ]; then
      ready=1
      while read -r l; do [ "$l" = starting=1 ] && ready=; done </dev/fd/9
      if [ -z "$ready" ]; then
        tell "exit $st"
        leave
      fi
      first=
    fi
    [ -n "$stopping" ] && leave
    # The daemon may have restored a removed pidfile under its own lock,
    # or lost the path to another daemon: take the file there, or go. One
    # that held the file and was stopped removed it: not made again here.
    if [ ! -e "$pidfile" ] && [ ! -L "$pidfile" ]; then
      say INFO "$name ended and its pidFile \"$pidfile\" is gone; not restarting it"
      leave keep
    elif ! mend; then
      say WARN "pidFile \"$pidfile\" $mend_why; not restarting $name"
      leave keep
    fi
    read -r end _ </proc/uptime
    if [ $((${"$"}{end%.*} - ${"$"}{up%.*})) -ge 30 ]; then fails=0 d=$delay; fi
    if [ $st -eq 0 ]; then
      if [ "$policy" != always ]; then
        say INFO "main returned (exit code 0); not restarting (restart: $policy)"
        leave
      fi
      pause=$delay
    else
      fails=$((fails + 1))
      if [ $fails -gt $max ]; then
        say FATAL "giving up after $max restarts: $fails consecutive failures, the last $(why $st)"
        printf '%s\nstarted=%s\nkeeper=1\nrestarts=%s\nlast_exit=%s %s\ngave_up=1\n' \
          "$me" "$since" $restarts "$(now)" "$(why $st)" >/dev/fd/9
        leave keep 1
      fi
      pause=$d
      d=$((d * 2))
      # Up to 30 s, or the first delay when that is longer.
      cap=30000
      [ $delay -gt $cap ] && cap=$delay
      [ $d -gt $cap ] && d=$cap
    fi
    restarts=$((restarts + 1))
    say ERROR "$name ended ($(why $st)); restart $restarts in $pause ms"
    past="restarts=$restarts
last_exit=$(now) $(why $st)
"
    printf '%s\nstarted=%s\nkeeper=1\n%s' "$me" "$since" "$past" >/dev/fd/9
    # In steps of at most 500 ms, so that the pidfile's path is kept (see
    # mend) while no program runs; a signal does not cut the wait short.
    left=$pause
    while [ -z "$stopping" ]; do
      step=$left
      [ $step -gt 500 ] && step=500
      sleep 0.$(printf %03d $step) &
      s=$!
      while kill -0 $s 2>/dev/null && [ -z "$stopping" ]; do wait $s; done
      kill $s 2>/dev/null
      [ -n "$stopping" ] && break
      if ! mend; then
        say WARN "pidFile \"$pidfile\" $mend_why; not restarting $name"
        leave keep
      fi
      left=$((left - step))
      [ $left -gt 0 ] || break
    done
    if [ -n "$stopping" ]; then
      say INFO "exiting: stopped during the wait before restart $restarts; $name does not start again"
      leave
    fi
  done
}

if [ "$out" = pipe ]; then
  { { keeper "$@" 2>&1 1>&5 5>&- 3>&- | copier raw "$errid"; } 5>&1 | copier rawout "$outid"; } &
elif [ "$out" = same ]; then
  { keeper "$@" 2>&1 3>&- | copier raw "$errid"; } &
else
  { keeper "$@" 2>&1 >/dev/null 3>&- | copier raw "$errid"; } &
fi
exec 3>&-
trap '' HUP $stops $others
wait
`;
