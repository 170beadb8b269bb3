"""Form posts' group write counted in instructions: repeatable on a machine whose speed drifts.

    python benchmarks/bench_group_write.py [--group 6] [--groups 40] [--runs 2] [--compare DIR]

On SQLite the web processes write the form posts that arrive together as one group, holding the
database's one write lock (``leadbase.capture.intake``), so the cost of a group bounds how many
posts per second ``leadbase serve`` takes. This shared machine's speed drifts by half within
minutes (see docs/benchmarks.md), so timing a change to that path tells little unless the change
is large. ``valgrind --tool=callgrind`` counts the instructions a process executes instead,
whatever else the machine is doing: the same code gives the same count within 0.01 %.

Each run, in a fresh data dir (migrated, the form ``bench`` of bench_forms.py without double
opt-in), a process under callgrind works out (``prepare``) and writes (``do_submit_forms`` in one
transaction) ``--groups`` groups of ``--group`` new people after 30 groups of warm-up, and
another process only the warm-up; the difference, divided by ``--groups``, is one group's
instructions: Python, SQLite, the commit and the share of copying the log back into the
database file (serve's checkpoint). Not counted: the HTTP request around each post, the
kernel's work, and Python's cyclic garbage collector, which the measured processes turn off: its
full collections come where a process's whole history puts them, not in proportion to the work
measured, and cost millions of instructions each (under load the collector takes about 1-2 % of
a web process's CPU); nor the pruning of the rate-limit table, which one post in a thousand
does, drawn at random (each process of a run of 40 groups of 6 draws it about one time in
five): its first run in a process took 1.2 ms, a few million instructions, and moved a run's
figure by a few tenths of a percent.

``--compare DIR`` measures another checkout (``git worktree add DIR <commit>``) the same way,
run for run alternating with this one, each run in a data dir migrated by that checkout's code.
Prints one JSON line per figure and updates docs/benchmarks.md (not with ``--compare``, whose
figures are a comparison, not this tree's).
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, update_doc, whole_number

HERE = Path(__file__).resolve().parents[1]
WARMUP_GROUPS = 30
SECTION = "Form posts' group write, in instructions (SQLite)"


def _env(data: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "LEADBASE_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "leadbase.settings",
        "LEADBASE_FORM_RATE_PER_IP": "100000000",
        "LEADBASE_FORM_RATE_PER_FORM": "100000000",
        "LEADBASE_FORM_MIN_FILL_SECONDS": "0",
        "LEADBASE_LOG_LEVEL": "WARNING",
        # No checkpoint inside the commits (as under serve): the log is copied back once, when
        # the measured process closes its connection.
        "LEADBASE_SQLITE_AUTOCHECKPOINT": "1000000",
        "PYTHONHASHSEED": "0",  # the same hashes, so the same dict and set layouts, in every run
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    return env


def set_up(code: Path, data: Path) -> None:
    """Migrate a fresh data dir with ``code``'s migrations and create its form ``bench``."""
    from benchmarks.bench_forms import SETUP

    setup = SETUP.replace('"double_opt_in": True', '"double_opt_in": False')
    env = _env(data)
    python = sys.executable
    subprocess.run([python, "-m", "leadbase", "migrate", "-v", "0"], cwd=code, env=env, check=True)
    subprocess.run([python, "-m", "leadbase", "shell", "-c", setup], cwd=code, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def instructions(code: Path, data: Path, groups: int, size: int, first: int) -> int:
    """Instructions of a process that writes the warm-up and then ``groups`` groups of ``size``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
             "--inner", str(code), str(groups), str(size), str(first)],
            cwd=code, env=_env(data), capture_output=True, text=True, check=False,
        )
        if run.returncode != 0:
            raise SystemExit(f"the measured process failed:\n{run.stdout}\n{run.stderr[-3000:]}")
        for line in run.stderr.splitlines():
            if "Collected :" in line:
                return int(line.split("Collected :")[1])
    raise SystemExit("callgrind printed no count:\n" + run.stderr[-3000:])


def per_group(code: Path, data: Path, groups: int, size: int) -> float:
    """One group's instructions: in a fresh data dir, a process with ``groups`` more groups than
    another, each writing people no earlier process wrote."""
    shutil.rmtree(data, ignore_errors=True)
    set_up(code, data)
    # The two processes' people share no email address nor phone number (person(i)'s phone
    # number repeats every 10,000,000): a shared one would make merges of the second's posts.
    alone = instructions(code, data, 0, size, 1_000_000)
    more = instructions(code, data, groups, size, 2_000_000)
    return (more - alone) / groups


class _NoPruning:
    """``secrets`` as the rate limits see it, drawing the one number that never prunes."""

    token_hex = staticmethod(secrets.token_hex)

    @staticmethod
    def randbelow(n: int) -> int:
        return n - 1


def inner(code: str, groups: int, size: int, first: int) -> None:
    """The measured process: ``prepare`` and ``do_submit_forms`` as a web process's leader does."""
    sys.path.insert(0, code)
    gc.disable()  # see the module's docstring
    import django

    django.setup()
    from django.db import transaction

    from benchmarks.bench_forms import person
    from leadbase.capture import spam
    from leadbase.capture.actions import SubmitJob, SubmitMeta, do_submit_forms, prepare
    from leadbase.capture.public import published_form

    spam.secrets = _NoPruning  # see the module's docstring

    for number in range(WARMUP_GROUPS + groups):
        form = published_form("bench")
        start = first + number * size
        jobs = [SubmitJob(form, person(start + i), SubmitMeta(ip="127.0.0.1", user_agent="bench"))
                for i in range(size)]
        for job in jobs:
            prepare(job)
        with transaction.atomic():
            do_submit_forms(jobs)
        if not all(job.result is not None and job.result.lead_id for job in jobs):
            raise SystemExit(f"a post was not written: {[job.result or job.error for job in jobs]}")


def _checkout(value: str) -> Path:
    path = Path(value).resolve()
    if not (path / "leadbase" / "capture" / "intake.py").is_file():  # (capture/actions is a package now)
        raise argparse.ArgumentTypeError(f"{value} is not a Leadbase checkout (git worktree add DIR <commit>)")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", type=whole_number(1), default=6, help="posts per group (under load: about 5)")
    parser.add_argument("--groups", type=whole_number(1), default=40, help="groups measured per run")
    parser.add_argument("--runs", type=whole_number(1), default=2)
    parser.add_argument("--compare", type=_checkout, help="another checkout to measure alternately")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--inner", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        code, groups, size, first = args.inner
        inner(code, int(groups), int(size), int(first))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (Debian: apt-get install valgrind)")
    trees = {"this tree": HERE} | ({"compared": args.compare} if args.compare else {})
    work = Path(tempfile.mkdtemp(prefix="lb-bench-group-"))
    counts: dict[str, list[float]] = {name: [] for name in trees}
    try:
        started = time.perf_counter()
        for run in range(args.runs):
            for name, code in trees.items():
                value = per_group(code, work / name.replace(" ", "-"), args.groups, args.group)
                counts[name].append(value)
                emit({"figure": "group_write_instructions", "tree": name, "code": str(code), "run": run + 1,
                      "group": args.group, "per_group": round(value), "per_post": round(value / args.group)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        name: {"per_group_median": round(median(values)), "per_post_median": round(median(values) / args.group),
               "range": [round(min(values)), round(max(values))]}
        for name, values in counts.items()
    }
    emit({"figure": "group_write_median", "group": args.group, "groups": args.groups, "runs": args.runs,
          "minutes": round((time.perf_counter() - started) / 60, 1), **summary})
    if args.no_doc or args.compare:
        return
    mine = summary["this tree"]
    update_doc(
        SECTION,
        f"python benchmarks/bench_group_write.py --group {args.group} --groups {args.groups} --runs {args.runs}",
        [
            (f"instructions per group of {args.group} posts (prepare + write + commit)",
             (f"median {mine['per_group_median'] / 1e6:.2f} million, range {mine['range'][0] / 1e6:.2f}–"
              f"{mine['range'][1] / 1e6:.2f} million ({args.runs} runs of {args.groups} groups)"),
             "—"),
            ("per post", f"{mine['per_post_median'] / 1e6:.2f} million", "—"),
        ],
    )


if __name__ == "__main__":
    main()
