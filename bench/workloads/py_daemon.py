"""The python3-daemon row: a DaemonContext with a PID lockfile, and the
start / stop / status commands that python3-daemon leaves to its user.

start: DaemonContext forks and detaches; the daemon writes its pid to the
ready file and idles until SIGTERM, whose default handler ends the context
and removes the pidfile. stop: SIGTERM, then poll every millisecond until the
pidfile is gone and the process is gone (state Z counts as gone). status:
exit 0 when the pidfile names a live process, else 3.
"""

import os
import signal
import sys
import time

import daemon
import daemon.pidfile

DIR = os.environ.get("BENCH_DIR", os.getcwd())
PID_FILE = os.path.join(DIR, "daemon.pid")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def read_pid():
    try:
        with open(PID_FILE) as f:
            return int(f.read().strip() or 0) or None
    except (OSError, ValueError):
        return None


def start():
    pidfile = daemon.pidfile.TimeoutPIDLockFile(PID_FILE, acquire_timeout=1)
    with daemon.DaemonContext(pidfile=pidfile, working_directory=DIR):
        with open(os.path.join(DIR, "ready"), "w") as f:
            f.write("%d\n" % os.getpid())
        while True:
            signal.pause()


def stop():
    pid = read_pid()
    if pid is None:
        return 0
    os.kill(pid, signal.SIGTERM)
    while os.path.exists(PID_FILE) or alive(pid):
        time.sleep(0.001)
    return 0


def status():
    pid = read_pid()
    return 0 if pid is not None and alive(pid) else 3


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "start":
        start()
    elif command == "stop":
        sys.exit(stop())
    elif command == "status":
        sys.exit(status())
    else:
        sys.exit(2)
