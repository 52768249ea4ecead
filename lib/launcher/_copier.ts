// The copier: the part of the keeper program (lib/launcher/_keeper.ts) that
// runs as C, K's other child. W's raw stderr (and stdout) arrive on a pipe;
// C appends each line to the file W names, found among W's own open files
// so that C never opens a path someone could swap, and follows W to a new
// file after rotation. Text after the launch nonce is a message from W:
//   <nonce> target <pid> <dev>:<ino>    raw lines go to that file of W's
//   <nonce> ready <json> | fail <json>  pass on to the launcher, once
//   <nonce> exit <code>                 the keeper's word: W ended before ready
// Each line goes out in one write and stays whole, a full disk included.
// It uses the keeper's say, now and $nonce; the script is one shell program.

/** The copier's shell functions, spliced into the keeper program. */
export const COPIER = String.raw`
# Opens, as fd 4, the file that process $1 has open with device:inode $2.
# Through /proc/PID/fd, so the path it was opened by can have been swapped
# since without this opening anything else.
target() {
  found=
  for e in $(stat -Lc '%n|%d:%i' /proc/$1/fd/* 2>/dev/null); do
    case $e in *"|$2") found=${"$"}{e%|*} ;; esac
  done
  [ -n "$found" ] && command exec 4>>"$found" && [ -f /dev/fd/4 ]
}

# Appends line $1 to fd 4 in one write. On a full disk a write can stop
# midway: the torn piece is cut back off at once (as the log sink does with
# its own), the lines lost are counted, and once writing works again the log
# says so. While writes fail, one try in 0.2 s: trying forks, and the program
# must not wait on its stderr meanwhile. Under LC_ALL=C: lengths in bytes.
put_line() {
  if [ -n "$lost" ]; then
    read -r pl_u _ </proc/uptime
    pl_u=${"$"}{pl_u%.*}${"$"}{pl_u#*.}
    if [ $((pl_u - lost_try)) -lt 20 ]; then
      lost=$((lost + 1))
      return 1
    fi
    lost_try=$pl_u
    if ! report_lost; then
      lost=$((lost + 1))
      return 1
    fi
  fi
  printf '%s\n' "$1" 2>/dev/null >&4 && return 0
  cut_back "$1"
  read -r pl_u _ </proc/uptime
  lost=1 lost_from=$(now) lost_try=${"$"}{pl_u%.*}${"$"}{pl_u#*.}
  return 1
}
# Says in the log how many raw lines were lost; false when that cannot be
# written either.
report_lost() {
  rl_m=$(say WARN "raw output: $lost lines lost from $lost_from to $(now): the log file could not be written (disk full?)")
  if printf '%s\n' "$rl_m" 2>/dev/null >&4; then
    lost=
    return 0
  fi
  cut_back "$rl_m"
  return 1
}
# Cuts off the end of fd 4's file when it is a piece of text $1 that a failed
# write left there (never another writer's bytes).
cut_back() {
  cb_t=$(tail -c $((${"$"}{#1} + 2)) /dev/fd/4 2>/dev/null && echo x) || return
  cb_t=${"$"}{cb_t%x}
  case $cb_t in *"$nl" | "") return ;; esac
  cb_f=${"$"}{cb_t##*"$nl"}
  case "$nl$1" in
    *"$nl$cb_f"*) truncate -s -${"$"}{#cb_f} /dev/fd/4 2>/dev/null ;;
  esac
}

copier() {
  trap '' HUP $stops $others PIPE
  export LC_ALL=C
  nl='
'
  lost= lost_from= lost_try=
  # The file to start with is the one the launcher created and holds open
  # (its pid is our $PPID) while it waits for ready; W names a new one after
  # a rotation. Lines that come while none is known go to the launcher, or
  # wait for the next W to name a file.
  tgt= tag=$1 open3=1 held=
  [ -n "$2" ] && target "$PPID" "$2" && tgt=1
  while :; do
    line=
    IFS= read -r line
    rc=$?
    [ $rc -ne 0 ] && [ -z "$line" ] && break
    case $line in
      *"$nonce "*)
        msg=${"$"}{line#*"$nonce "}
        line=${"$"}{line%%"$nonce "*}
        set -f
        set -- $msg
        set +f
        case $1 in
          target)
            if target "$2" "$3"; then
              tgt=1
              [ -n "$held" ] && put_line "${"$"}{held%"$nl"}"
              held=
            fi
            ;;
          ready | fail)
            printf '%s\n' "${"$"}{msg#* }" 2>/dev/null >&3
            exec 3>&-
            open3=
            ;;
          exit)
            printf '{"exit":%s}\n' "$2" 2>/dev/null >&3
            exec 3>&-
            open3=
            ;;
        esac
        if [ -z "$line" ]; then
          [ $rc -ne 0 ] && break
          continue
        fi
        ;;
    esac
    # One write per line (dash's buffer is 8 KiB): a longer raw line is cut
    # into lines, so that no log record is ever written into its middle.
    while [ ${"$"}{#line} -gt 8000 ]; do
      part=$(printf '%.8000s' "$line")
      line=${"$"}{line#"$part"}
      if [ -n "$tgt" ]; then put_line "$part"; else held="$held$part
"; fi
    done
    if [ -n "$tgt" ]; then
      put_line "$line"
    elif [ -n "$open3" ]; then
      printf '%s %s\n' "$tag" "$line" 2>/dev/null >&3
    elif [ ${"$"}{#held} -lt 65536 ]; then
      held="$held$line
"
    fi
    [ $rc -ne 0 ] && break
  done
  # The program is gone: no later line would carry the count.
  [ -n "$lost" ] && [ -n "$tgt" ] && report_lost
}
`;
