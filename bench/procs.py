"""CPU time and memory of processes, from /proc (Linux): what a booking costs each process.

A process's CPU is utime + stime from /proc/<pid>/stat (clock ticks), summed over its
descendants (uvicorn runs one process per service, but a reloader or worker would be a child).
PostgreSQL is the processes named `postgres` whose title (cmdline) names one of the run's
databases: its backends. The shared background processes (WAL writer, checkpointer) are left
out: on a machine where other work uses the same server they measure that work too.
RabbitMQ is its Erlang VM, `beam.smp` (shared with whatever else uses the broker).
"""

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


@dataclass(frozen=True)
class Stat:
    pid: int
    comm: str
    ppid: int
    cpu_ticks: int  # utime + stime
    rss_pages: int


def parse_stat(text: str) -> Stat:
    """One /proc/<pid>/stat line. The command name is in parentheses and may itself hold
    spaces and parentheses, so the fields after it are found from the last ')'."""
    pid, _, rest = text.partition(" (")
    comm, _, fields = rest.rpartition(") ")
    values = fields.split()
    # After comm: state(3) ppid(4) ... utime(14) stime(15) ... rss(24); values[0] is field 3.
    return Stat(
        pid=int(pid),
        comm=comm,
        ppid=int(values[1]),
        cpu_ticks=int(values[11]) + int(values[12]),
        rss_pages=int(values[21]),
    )


def read_stat(pid: int, proc: Path = PROC) -> Stat | None:
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        return None  # gone meanwhile


def all_stats(proc: Path = PROC) -> list[Stat]:
    found = (read_stat(int(p.name), proc) for p in proc.iterdir() if p.name.isdigit())
    return [s for s in found if s is not None]


def tree(root: int, stats: Iterable[Stat]) -> list[Stat]:
    """`root` and all its descendants among `stats`."""
    children: dict[int, list[Stat]] = {}
    by_pid: dict[int, Stat] = {}
    for s in stats:
        children.setdefault(s.ppid, []).append(s)
        by_pid[s.pid] = s
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in by_pid:
            found.append(by_pid[pid])
        todo.extend(c.pid for c in children.get(pid, []))
    return found


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    rss_bytes: int
    anon_bytes: int  # RssAnon: private memory (RSS also counts shared pages once per process)
    processes: int


def parse_status_kb(text: str, field: str) -> int:
    """A "<field>:   1234 kB" line of /proc/<pid>/status, in bytes (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def anon_bytes(pid: int, proc: Path = PROC) -> int:
    try:
        return parse_status_kb((proc / str(pid) / "status").read_text(), "RssAnon")
    except (FileNotFoundError, ProcessLookupError):
        return 0


@dataclass(frozen=True)
class Named:
    """Processes by command name; with `titles`, only those whose cmdline holds one of them."""

    comm: str
    titles: tuple[str, ...] = ()


def postgres(databases: Iterable[str]) -> Named:
    """The backends serving `databases` (their title: "postgres: <user> <database> <peer>")."""
    return Named("postgres", tuple(f" {d} " for d in databases))


def cmdline(pid: int, proc: Path = PROC) -> str:
    try:
        return (
            (proc / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except (FileNotFoundError, ProcessLookupError):
        return ""


def members(key: "int | Named", stats: list[Stat], proc: Path = PROC) -> list[Stat]:
    if isinstance(key, int):
        return tree(key, stats)
    named = [s for s in stats if s.comm == key.comm]
    if not key.titles:
        return named
    return [s for s in named if any(t in cmdline(s.pid, proc) + " " for t in key.titles)]


Groups = Mapping[str, "int | Named"]  # name -> a pid (that process's tree) or Named processes


def sample(groups: Groups, proc: Path = PROC) -> dict[str, Usage]:
    """CPU and RSS of each group now."""
    stats = all_stats(proc)
    usage = {}
    for name, key in groups.items():
        found = members(key, stats, proc)
        usage[name] = Usage(
            cpu_seconds=sum(s.cpu_ticks for s in found) / TICKS,
            rss_bytes=sum(s.rss_pages for s in found) * PAGE,
            anon_bytes=sum(anon_bytes(s.pid, proc) for s in found),
            processes=len(found),
        )
    return usage


def cpu_delta(before: Mapping[str, Usage], after: Mapping[str, Usage]) -> dict[str, float]:
    """CPU seconds each group spent between two samples (groups in both)."""
    return {k: after[k].cpu_seconds - before[k].cpu_seconds for k in after if k in before}
