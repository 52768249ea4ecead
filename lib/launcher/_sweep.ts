// The sweep: the part of the keeper program (lib/launcher/_keeper.ts) that
// ends what the program left behind once it has ended: its children (a
// `sleep 1000` it spawned, a child that ignores SIGTERM) get SIGTERM, then
// SIGKILL after the stop timeout, as `stop` does, so that nothing of the
// daemon outlives it holding its log open. It uses the keeper's say, $name,
// $grace and $stopping; the script is one shell program.

/** The sweep's shell functions, spliced into the keeper program. */
export const SWEEP = String.raw`
# The live processes of the daemon's group (this session's, led by K) that
# do not descend from K: the keeper's own (K1, the copiers, what they run)
# do; what the program left behind was orphaned when it ended.
leftovers() {
  lo_all=
  for lo_d in /proc/[0-9]*; do
    lo_s=
    read -r lo_s 2>/dev/null <"$lo_d/stat" || continue
    set -f
    set -- ${"$"}{lo_s##*) }
    set +f
    [ "$3" = "$$" ] && [ "$1" != Z ] && [ "${"$"}{lo_d#/proc/}" != "$$" ] || continue
    lo_all="$lo_all ${"$"}{lo_d#/proc/}:$2"
  done
  for lo_p in $lo_all; do
    lo_top=${"$"}{lo_p%:*} lo_up=${"$"}{lo_p#*:}
    while [ "$lo_up" != "$$" ]; do
      case "$lo_all " in
        *" $lo_up:"*) lo_top=$lo_up lo_t=${"$"}{lo_all#* "$lo_up":} lo_up=${"$"}{lo_t%% *} ;;
        *) shell "$lo_top" || printf '%s ' "${"$"}{lo_p%:*}"; break ;;
      esac
    done
  done
}
# Whether process $1 is one of the keeper's own shells, which carry the
# keeper in their environment: orphans too once K is gone (kill -9).
shell() { tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -q "^DAEMONIZE_KEEPER="; }

# Ends what the program left in its process group, as stop does: SIGTERM,
# then SIGKILL after the stop timeout.
sweep() {
  sw_left=$(leftovers)
  [ -z "$sw_left" ] && return
  say WARN "ending what $name left behind: pids $sw_left"
  kill -TERM $sw_left 2>/dev/null
  sw_t=0
  while [ $sw_t -lt "$grace" ]; do
    # A stop ends the group itself (SIGKILL at its stopTimeout): go now.
    [ -n "$stopping" ] && return
    sleep 0.05
    sw_t=$((sw_t + 50))
    sw_left=$(leftovers)
    [ -z "$sw_left" ] && return
  done
  kill -KILL $sw_left 2>/dev/null
}
`;
