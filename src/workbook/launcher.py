"""Start one run of a submission's code inside the sandbox, then get out of the way.

The grader runs this file as its own small program (`python -I -S launcher.py
CONFIG`), never as a `preexec_fn`: setting up the sandbox needs system calls
that must not run in a child forked from a grader that has threads. It uses only
the standard library, reads its settings from one JSON argument, and:

1. asks the kernel to kill it if the grader dies (PR_SET_PDEATHSIG);
2. isolates the run when the system allows it: new mount and PID namespaces
   (as root; or inside a user namespace when not root), where every mount is
   read-only except one size-limited tmpfs, mounted as a private /tmp, that
   holds the scratch copy of the submission and its HOME, and the pristine
   tests are read-only mounts inside the scratch copy; a fresh /proc that shows only the
   run's own processes; and, as root, a user id of its own;
3. bounds memory (RLIMIT_DATA), file size, open files, core dumps and, with
   its own user id, the number of processes;
4. forks the run (process 1 of its PID namespace), reports how it is isolated
   on the results channel, and execs the test command in it;
5. waits, and when the run ends or the grader says stop (SIGTERM), kills every
   process the run left behind: the PID namespace dies with its first process,
   and without one the launcher is a child subreaper that kills what it inherits.

Exit status: the run's own, or 125 when the sandbox could not be set up.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import sys
import time
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWIPC = 0x08000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_MOVE, MS_REC = 32, 1024, 2048, 4096, 8192, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
# statvfs() flag -> mount() flag, for the flags a remount must keep.
KEEP_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
              os.ST_NOATIME: MS_NOATIME, os.ST_NODIRATIME: MS_NODIRATIME, os.ST_RELATIME: MS_RELATIME}  # fmt: skip
SETUP_FAILED = 125

libc = ctypes.CDLL("libc.so.6", use_errno=True)


class SetupError(Exception):
    pass


def call(name: str, *args: object) -> int:
    result = getattr(libc, name)(*args)
    if result == -1:
        errno = ctypes.get_errno()
        raise SetupError(f"{name}{args!r}: {os.strerror(errno)}")
    return int(result)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    call("mount", encoded(source), encoded(target), encoded(fstype), ctypes.c_ulong(flags), encoded(data))


def encoded(text: str | None) -> bytes | None:
    return None if text is None else text.encode()


def prctl(option: int, value: int) -> None:
    call("prctl", option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def mount_points() -> list[str]:
    """Every mount point this process sees, parents first."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            point = line.split()[4]
            for escaped, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
                point = point.replace(escaped, char)
            points.append(point)
    return points


def remount_read_only(point: str) -> bool:
    try:
        current = os.statvfs(point).f_flag
    except OSError:
        return False  # hidden under another mount, or gone
    keep = 0
    for st_flag, ms_flag in KEEP_FLAGS.items():
        if current & st_flag:
            keep |= ms_flag
    try:
        mount(None, point, None, MS_BIND | MS_REMOUNT | MS_RDONLY | keep)
    except SetupError:
        return False
    return True


def bind(source: str, target: str, read_only: bool) -> None:
    mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def give_to_run(folder: str, owner: tuple[int, int], pristine: set[str]) -> None:
    """Make the submission's files the run's own; the pristine tests stay the grader's."""
    if os.path.islink(folder) or not os.path.isdir(folder):
        os.chown(folder, *owner, follow_symlinks=False)
        return
    for here, dirnames, filenames in os.walk(folder):
        relative = os.path.relpath(here, folder)
        if relative.split(os.sep)[0] in pristine:
            dirnames[:] = []
            continue
        os.chown(here, *owner, follow_symlinks=False)
        for name in filenames:
            if relative != "." or name not in pristine:
                os.chown(os.path.join(here, name), *owner, follow_symlinks=False)


def set_limits(limits: dict[str, int]) -> None:
    names = {"data": resource.RLIMIT_DATA, "fsize": resource.RLIMIT_FSIZE, "nofile": resource.RLIMIT_NOFILE,
             "core": resource.RLIMIT_CORE, "nproc": resource.RLIMIT_NPROC}  # fmt: skip
    for name, value in limits.items():
        resource.setrlimit(names[name], (value, value))


def isolate(config: dict[str, Any], notes: list[str]) -> str:
    """Enter new namespaces; return the isolation mode ("root", "user" or "none")."""
    wanted = config["isolation"]
    if wanted == "none":
        notes.append("isolation was turned off for this run")
        return "none"
    if os.geteuid() == 0:
        try:
            call("unshare", CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC)
            return "root"
        except SetupError as error:
            notes.append(f"no namespaces ({error})")
            return "uid-only"
    uid, gid = os.getuid(), os.getgid()
    try:
        call("unshare", CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC)
    except SetupError as error:
        notes.append(f"no user namespaces ({error})")
        return "none"
    # Inside, the run keeps the grader's own ids; it has no privileges once it execs.
    with open("/proc/self/setgroups", "w") as file:
        file.write("deny")
    with open("/proc/self/uid_map", "w") as file:
        file.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as file:
        file.write(f"{gid} {gid} 1")
    return "user"


def blocked_ancestor(path: str) -> str | None:
    """The highest folder above `path` that other users may not pass through, if any."""
    current = "/"
    for part in path.strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        if not os.stat(current).st_mode & 0o001:
            return current
    return None


def cover(needed: list[str], hidden: list[str], staging: str, own_user: bool) -> None:
    """Hide folders from the run, and let it reach what it needs (the Python it runs, its packages).

    Each folder to hide, and (with a user of its own) each folder in the way of a
    needed path (root's home, say), is covered with an empty read-only tmpfs
    holding only the way down to the needed paths inside, mounted back in place."""
    covers = {os.path.realpath(path) for path in hidden if os.path.isdir(path)}
    if own_user:
        covers |= {top for path in needed if os.path.exists(path) and (top := blocked_ancestor(path)) is not None}
    covers = {c for c in covers if not any(c != d and c.startswith(d + "/") for d in covers)}
    for top in sorted(covers):
        inside = sorted(p for p in set(needed) if p.startswith(top + "/") and os.path.exists(p))
        inside = [p for p in inside if not any(p != q and p.startswith(q + "/") for q in inside)]
        staged = []
        for path in inside:
            stage = os.path.join(staging, str(len(os.listdir(staging))))
            os.mkdir(stage)
            bind(path, stage, read_only=True)
            staged.append((stage, path))
        mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
        for stage, path in staged:
            os.makedirs(path, mode=0o755, exist_ok=True)
            mount(stage, path, None, MS_MOVE)


def build_filesystem(config: dict[str, Any], mode: str, notes: list[str]) -> str:
    """Everything read-only but one sized tmpfs, which becomes /tmp and holds the scratch copy and HOME.

    Returns the scratch folder's path inside the sandbox."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    staging = os.path.join(config["area"], "expose")
    os.mkdir(staging, 0o700)
    hidden = [os.path.realpath(path) for path in config["hide"]]
    needed = [p for p in config["expose"] if not any(h == p or h.startswith(p + "/") for h in hidden)]
    cover(needed, hidden, staging, own_user=mode == "root")
    skipped = [point for point in mount_points() if not remount_read_only(point)]
    if skipped:
        notes.append(f"{len(skipped)} mount(s) could not be made read-only")
    area = config["area"]
    mount("tmpfs", area, "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['disk_bytes']},mode=1777")
    scratch, home = os.path.join(area, "scratch"), os.path.join(area, "home")
    pristine = set(config["pristine"])
    shutil.copytree(config["prepared"], scratch, symlinks=True)
    os.mkdir(home, 0o700)
    if mode == "root":
        give_to_run(scratch, (config["uid"], config["uid"]), pristine)
        os.chown(home, config["uid"], config["uid"])
    # A workbook that itself lives in /tmp (a fresh clone there, its venv) stays
    # readable: what the run needs from the old /tmp is bound, read-only, into the new one.
    bound: list[str] = []
    for path in sorted(needed):
        if path.startswith("/tmp/") and os.path.isdir(path) and not any(path.startswith(b + "/") for b in bound):
            inner = os.path.join(area, os.path.relpath(path, "/tmp"))
            os.makedirs(inner, exist_ok=True)
            bind(path, inner, read_only=True)
            bound.append(path)
    # The prepared copy may itself live in /tmp: move the tmpfs there only once it is filled.
    mount(area, "/tmp", None, MS_MOVE)
    for private in ("/var/tmp", "/dev/shm"):
        if os.path.isdir(private) and not os.path.islink(private):
            bind("/tmp", private, read_only=False)
    if mode == "root":
        known_to_the_system(config["uid"])
    scratch = "/tmp/scratch"
    for name in pristine:
        path = os.path.join(scratch, name)
        if os.path.lexists(path):
            bind(path, path, read_only=True)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    return scratch


def known_to_the_system(uid: int) -> None:
    """Give the run's user id a name in /etc/passwd and /etc/group (PostgreSQL's initdb insists on one)."""
    etc = "/tmp/.workbook-etc"
    os.mkdir(etc, 0o755)
    entries = {"passwd": f"workbook-run:x:{uid}:{uid}:workbook run:/tmp/home:/bin/sh\n", "group": f"workbook-run:x:{uid}:\n"}
    for name, entry in entries.items():
        system = os.path.join("/etc", name)
        if not os.path.isfile(system):
            continue
        with open(system, encoding="utf-8", errors="surrogateescape") as file:
            text = file.read()
        ours = os.path.join(etc, name)
        with open(ours, "w", encoding="utf-8", errors="surrogateescape") as file:
            file.write(text.rstrip("\n") + "\n" + entry)
        os.chmod(ours, 0o644)
        bind(ours, system, read_only=True)


def become_the_run(config: dict[str, Any], mode: str) -> None:
    if mode in ("root", "uid-only"):
        os.setgroups([])
        os.setgid(config["uid"])
        os.setuid(config["uid"])
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by setuid, so set again


def report(channel: int, data: dict[str, Any]) -> None:
    os.write(channel, (json.dumps({"kind": "sandbox", **data}) + "\n").encode())


def run_child(config: dict[str, Any], mode: str, notes: list[str]) -> None:
    """In the forked child: finish the sandbox and exec the run (never returns)."""
    channel = config["channel"]
    try:
        cwd, env = config["cwd"], dict(config["env"])
        if mode in ("root", "user"):
            cwd = build_filesystem(config, mode, notes)
            env["HOME"], env["TMPDIR"] = "/tmp/home", "/tmp"
        elif mode == "uid-only":
            # No namespaces: the scratch folder is the grader's, sticky and open to all, so the
            # run can add files but not replace the pristine ones; HOME is the run's own.
            owner = (config["uid"], config["uid"])
            os.chmod(cwd, 0o1777)
            for name in set(os.listdir(cwd)) - set(config["pristine"]):
                give_to_run(os.path.join(cwd, name), owner, set())
            give_to_run(env["HOME"], owner, set())
        os.chdir(cwd)
        limits = dict(config["limits"])
        if mode not in ("root", "uid-only"):
            limits.pop("nproc", None)  # the grader's own user: its other processes count too
        set_limits(limits)
        become_the_run(config, mode)
        report(channel, {"mode": mode, "notes": notes, "cwd": cwd})
        os.execve(config["argv"][0], config["argv"], env)
    except (OSError, SetupError) as error:
        try:
            report(channel, {"mode": "failed", "notes": [*notes, f"could not set up the sandbox: {error}"]})
        finally:
            os._exit(SETUP_FAILED)


def kill_leftovers(uid: int | None) -> None:
    """Kill every process the run left behind that this launcher can still find."""
    if uid is not None:
        killer = os.fork()
        if killer == 0:  # as the run's own user, kill(-1) reaches every process of that user
            try:
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            os._exit(0)
        os.waitpid(killer, 0)
    for _ in range(50):  # orphans re-parented to this subreaper
        children = []
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/children", encoding="ascii") as file:
                    children += [int(pid) for pid in file.read().split()]
            except OSError:
                continue
        if not children:
            return
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return
        time.sleep(0.01)


def main() -> int:
    config = json.loads(sys.argv[1])
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != config["parent"]:
        return SETUP_FAILED  # the grader is already gone
    if config.get("cpus"):  # this run's share of the cores, when several runs share the machine
        try:
            os.sched_setaffinity(0, config["cpus"])
        except OSError:
            pass  # a core gone offline, say: the run goes on wherever it may
    notes: list[str] = []
    mode = isolate(config, notes)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    child = os.fork()
    if child == 0:
        run_child(config, mode, notes)
    os.close(config["channel"])
    stop = lambda signum, frame: os.kill(child, signal.SIGKILL)  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    # With a PID namespace the kernel has already killed the rest with its first process.
    if mode not in ("root", "user"):
        kill_leftovers(config["uid"] if mode == "uid-only" else None)
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
