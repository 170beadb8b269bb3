"""Shared helpers for the benchmarks: machine facts, process-tree memory, docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
DOC = ROOT / "docs" / "benchmarks.md"


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` (to ``high``), else a one-line error."""

    def parse(value: str) -> int:
        number = int(value)
        if number < low or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return number

    return parse


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "os": platform.platform()}


def speed_gauge_ms() -> float:
    """Milliseconds a fixed pure-Python workload takes here now, best of 5 (lower is faster).

    This shared machine's speed drifts by half within minutes and by more than twice between
    days; benchmarks report this next to their figures so that figures taken at different times
    can be told apart from changes in the code.
    """
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        sum(i * i for i in range(1_000_000))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def emit(figure: dict) -> None:
    """Print one JSON line per figure (the benchmark contract)."""
    print(json.dumps(figure, ensure_ascii=False), flush=True)


def _tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants, in kB: the sum of their PSS.

    PSS (proportional set size) splits pages shared between processes — a forked worker shares
    most of its parent's memory copy-on-write — so the sum is the real footprint; summing RSS
    would count shared pages once per process.
    """
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            rollup = Path(f"/proc/{p}/smaps_rollup").read_text()
            total += int(re.search(r"^Pss:\s+(\d+)", rollup, re.M).group(1))
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(c) for c in children)
        except (OSError, AttributeError):
            continue
    return total


#: Reading a process's PSS makes the kernel walk its page tables: about 1 ms per process of a
#: few hundred MB. Every 50 ms that took about 7 % of a core from a 2-core machine whose two
#: cores the import keeps busy (the single-process reference script left it the idle one);
#: four times a second is cheap, and memory that a 40 s run holds for less than that is not
#: its peak.
SAMPLE_EVERY_S = 0.25


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; return (seconds, peak PSS of the whole process tree in MB, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            done.wait(SAMPLE_EVERY_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(err)
        raise SystemExit(f"{cmd[0]} failed with status {proc.returncode}")
    return elapsed, peak / 1024, out


def update_doc(section: str, command: str, rows: list[tuple[str, str, str]]) -> None:
    """Replace ``section`` of docs/benchmarks.md with a table of (figure, measured, target)."""
    m = machine()
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"## {section}",
        "",
        f"Measured {when} on {m['cores']} cores ({m['cpu'] or 'unknown CPU'}), Python {m['python']}, with:",
        "",
        "```",
        command,
        "```",
        "",
        "| figure | measured | target |",
        "| --- | --- | --- |",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\nLatest figures; each section says the command that produced it.\n\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    block = "\n".join(body) + "\n"
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
    DOC.write_text(text, encoding="utf-8")
