"""Form submission benchmark: POST /f/<slug> over HTTP against `leadbase serve` on SQLite.

    python benchmarks/bench_forms.py [--requests 20000] [--runs 3] [--connections 16] [--workers N] [--threads T]

In a fresh data dir: migrates, creates a workspace and the form `bench` through leadbase code
(name, email, phone, an email-marketing consent, double opt-in on, like the demo `contact`
form), starts `leadbase serve` (granian + the background worker, which sends the confirmation
emails and scans for duplicates meanwhile) with the rate limits raised and the minimum fill time
0, as an operator would for a load test. A second process posts JSON submissions on keep-alive
connections (one thread, a selector; each connection carries 50 posts, then a new one is opened,
``--posts-per-connection``), each a new person, or with ``--repeat-pct P`` P % of them
by a person who posted 401 posts earlier (a second submission, merged into the lead; the people
of such posts repeat spread evenly over the run). Then it checks that nothing was lost: every 2xx
answer has its journal row, processed, and its person's lead. The confirmation emails go to an
SMTP server run by this script, which notes when each arrives: the delay from the answer to
the post until its email is at the SMTP server is the double opt-in figure (target ≤ 5 s).
The SMTP server is, by default, ``benchmarks/smtp_sink.py``: a deployment's mail relay is
another machine, and aiosmtpd (``--smtp aiosmtpd``) spends about 0.5 ms of these same two
cores per email parsing what it receives; the sink speaks the same SMTP for a few µs.
Before each run's load it times a fixed Python loop (``speed_gauge_ms``): this shared machine's
speed drifts, and the gauge tells a slow machine from slow code when runs are compared.
It counts the CPU each process of the server used, and each web process's share of the web
processes' CPU: an uneven share means the connections were not spread over the processes.
Prints one JSON line per figure and updates docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import emit, machine, speed_gauge_ms, update_doc, whole_number  # noqa: E402
from benchmarks.smtp_sink import SmtpSink  # noqa: E402

SETUP = """
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.capture.actions import do_create_form
owner = do_create_user("bench@example.com", "bench-password-1", workspace_slug="bench", role="owner")
do_create_form(Workspace.objects.get(slug="bench"), {
    "name": "Bench", "slug": "bench", "double_opt_in": True,
    "fields": [{"key": "name", "required": True}, {"key": "email", "type": "email", "required": True},
               {"key": "phone", "type": "phone"}],
    "consents": [{"purpose": "email_marketing", "text": "Email me news. I can unsubscribe at any time."}],
}, actor=owner)
"""
GIVEN = [
    a + b
    for a in (
        "Ka",
        "Lo",
        "Mi",
        "Sa",
        "Te",
        "Ra",
        "No",
        "Vi",
        "Ju",
        "Be",
        "Do",
        "Fe",
        "Ga",
        "Hi",
        "Pa",
    )
    for b in ("ra", "na", "lia", "mon", "rin", "do", "sa", "vel", "tis", "ko")
]
FAMILY = [
    a + b
    for a in (
        "Berg",
        "Cor",
        "Dal",
        "Fen",
        "Har",
        "Kest",
        "Lind",
        "Mor",
        "Nor",
        "Pell",
        "Quin",
        "Ros",
        "Stav",
        "Tor",
        "Wend",
    )
    for b in ("son", "er", "ley", "man", "ford", "ton", "by", "well", "sky", "ova")
]
WARMUP = 300
REPEAT_GAP = 401  # posts between a person's first post and their second (see ``who``)


def person(i: int) -> dict:
    """Submission ``i``: a distinct plausible name, email address and London phone number."""
    name = f"{GIVEN[i % len(GIVEN)]} {FAMILY[i // len(GIVEN) % len(FAMILY)]}"
    return {
        "name": name,
        "email": f"person{i}@bench.example.org",
        "phone": f"+44 20 7{i % 10_000_000:07d}",
        "consent_email_marketing": True,
        "utm_source": "bench",
    }


def who(n: int, repeat_pct: int) -> int:
    """The person (``person``'s number) who makes post ``n``: post ``n`` itself, or for
    ``repeat_pct`` % of the posts (every hundred consecutive posts hold exactly that many) the
    person of post ``n - REPEAT_GAP``."""
    if repeat_pct and n >= REPEAT_GAP and n * 37 % 100 < repeat_pct:
        return who(n - REPEAT_GAP, repeat_pct)
    return n


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate_load(
    port: int, first: int, count: int, connections: int, repeat_pct: int, per_connection: int, out: str
) -> None:
    """The load process: ``count`` posts over ``connections`` keep-alive connections, post ``n``
    by person ``who(n, repeat_pct)``. A connection that has carried ``per_connection`` posts (0:
    no limit) is closed and a new one opened, as visitors come and go: the kernel hands each new
    connection to one of the web processes' sockets by a hash of its addresses, and 16
    connections kept for a whole run were often spread 10/6 or worse (a web process's share of
    the web CPU up to 61 %), the run then as slow as the busier process.

    One thread drives every connection through a selector and writes the requests itself, so
    the load generator takes little of the machine's CPU from the server it measures
    (http.client from a thread per connection took about a tenth of it). A request without an
    answer for 30 s counts as failed (status 0), as does one whose connection the server closed."""
    results: list[tuple[int, int, float, float]] = []
    todo = iter(range(first, first + count))
    selector = selectors.DefaultSelector()
    head = (
        "POST /f/bench HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        "Accept: application/json\r\nContent-Length: {length}\r\n\r\n"
    )

    def connect() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def send_next(sock: socket.socket, state: dict) -> bool:
        i = next(todo, None)
        if i is None:
            return False
        body = json.dumps(person(who(i, repeat_pct))).encode()
        state.update(i=i, buffer=b"", started=time.perf_counter(), posts=state.get("posts", 0) + 1)
        sock.sendall(head.format(port=port, length=len(body)).encode() + body)
        return True

    def finish(state: dict, status: int) -> None:
        # time.monotonic() is the system-wide clock the SMTP side also reads
        results.append((state["i"], status, time.perf_counter() - state["started"], time.monotonic()))

    started = time.perf_counter()
    for _ in range(connections):
        sock, state = connect(), {}
        if send_next(sock, state):
            selector.register(sock, selectors.EVENT_READ, state)
        else:
            sock.close()
    while selector.get_map():
        ready = selector.select(timeout=30)
        if not ready:  # the server stopped answering: the requests in flight and those not sent fail
            for key in list(selector.get_map().values()):
                finish(key.data, 0)
                selector.unregister(key.fileobj)
                key.fileobj.close()
            results.extend((i, 0, 0.0, time.monotonic()) for i in todo)
        for key, _ in ready:
            sock, state = key.fileobj, key.data
            try:
                data = sock.recv(65536)
            except OSError:
                data = b""
            if data:
                state["buffer"] += data
                end = state["buffer"].find(b"\r\n\r\n")
                if end < 0:
                    continue
                headers = state["buffer"][:end].decode("latin-1").split("\r\n")
                length = next(
                    (int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:")), None
                )
                if length is not None and len(state["buffer"]) < end + 4 + length:
                    continue  # the body is still coming
                finish(state, int(headers[0].split()[1]))
                if length is not None and not (per_connection and state["posts"] >= per_connection):
                    if not send_next(sock, state):  # the connection stays open: the next request
                        selector.unregister(sock)
                        sock.close()
                    continue
            else:  # the server closed the connection: the request in flight failed
                finish(state, 0)
            selector.unregister(sock)  # then go on over a new connection (also after its last post)
            sock.close()
            sock, state = connect(), {}
            if send_next(sock, state):
                selector.register(sock, selectors.EVENT_READ, state)
            else:
                sock.close()
    elapsed = time.perf_counter() - started
    Path(out).write_text(json.dumps({"elapsed": elapsed, "results": results}))


def cpu_seconds(server: int) -> dict[str, float]:
    """CPU seconds used so far, by role: the web processes (granian) and the worker processes of
    ``leadbase serve`` (found under its pid in /proc), ``serve``'s own process (it checkpoints
    SQLite's log), the SMTP server (this process: only its thread works while the load runs) and
    the load generator (finished children)."""
    tree, stats = _server_tree(server)
    used = {"web": 0.0, "serve": stats[server][1], "worker": 0.0}
    for pid in tree - {server}:
        _, seconds, cmdline = stats[pid]
        used["web" if "granian" in cmdline else "worker"] += seconds
    own = os.times()
    used["smtp_server"] = own.user + own.system
    used["load_generator"] = own.children_user + own.children_system
    return used


def web_shares(server: int) -> list[int]:
    """Each web process's share of the web processes' CPU so far, in %, largest first: how
    evenly the connections were spread over them."""
    tree, stats = _server_tree(server)
    masters = {pid for pid in tree if stats[pid][0] == server and "granian" in stats[pid][2]}
    seconds = [stats[pid][1] for pid in tree if stats[pid][0] in masters]
    total = sum(seconds) or 1.0
    return sorted((round(100 * s / total) for s in seconds), reverse=True)


def _server_tree(server: int) -> tuple[set[int], dict[int, tuple[int, float, str]]]:
    """The pids of ``server`` and its descendants, and (parent, CPU seconds, command line) of
    every process."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # not a process, or gone meanwhile
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmdline)
    tree, found = {server}, True
    while found:
        found = False
        for pid, (parent, _, _) in stats.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                found = True
    return tree, stats


def percentile(sorted_values: list[float], p: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p))]


class Inbox:
    """The aiosmtpd handler: when each message to each recipient arrived (time.monotonic()).
    It offers PIPELINING, as the servers a business sends through do (Postfix, Exim, the relays
    of mail services); aiosmtpd reads commands in order, so it takes them pipelined as they are,
    though it does not say so itself."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = defaultdict(list)
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        now = time.monotonic()
        for rcpt in envelope.rcpt_tos:
            self.arrived[rcpt].append(now)
            self.count += 1
        return "250 OK"


def confirmation_delays(
    earlier: list, results: list, repeat_pct: int, inbox: Inbox | SmtpSink, drain_s: float = 120
) -> dict:
    """Seconds from each accepted post of ``results`` to its email at the SMTP server; waits up
    to ``drain_s`` for the last ones once the load has stopped. A person who posted twice gets
    two emails: the first to arrive goes with the first post (``earlier`` posts included)."""
    answered: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for measured, posts in ((False, earlier), (True, results)):
        for n, status, _, at in posts:
            if 200 <= status < 300:
                answered[person(who(n, repeat_pct))["email"]].append((at, measured))
    expected = sum(len(times) for times in answered.values())
    deadline = time.monotonic() + drain_s
    while inbox.count < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    delays = sorted(
        arrived - at
        for email, times in answered.items()
        for (at, measured), arrived in zip(sorted(times), sorted(inbox.arrived.get(email, [])))
        if measured
    )
    return {
        "emails_expected": sum(measured for times in answered.values() for _, measured in times),
        "emails_arrived": len(delays),
        "within_5s": sum(d <= 5 for d in delays),
        "p50_s": round(percentile(delays, 0.50), 2) if delays else None,
        "p99_s": round(percentile(delays, 0.99), 2) if delays else None,
        "max_s": round(delays[-1], 2) if delays else None,
    }


def verify(db: Path, accepted: list[int], repeat_pct: int) -> dict:
    """Every accepted post (the warm-up's too) has its processed journal row, and its person a
    lead (matched by email); a person's second post is merged into their lead."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    journal: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for email, status, outcome in con.execute(
        "SELECT json_extract(payload, '$.email'), status, outcome FROM capture_submission"
    ):
        journal[email].append((status, outcome))
    leads = {email for (email,) in con.execute("SELECT email_key FROM leads_lead")}
    consents = con.execute(
        "SELECT COUNT(*) FROM leads_consent WHERE status = 'pending'"
    ).fetchone()[0]
    # A group of posts queues one task for its confirmation emails: emails per task is the mean
    # size of the groups that asked for some.
    tasks = con.execute(
        "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE task_path LIKE '%confirmation%'"
    ).fetchone()[0]
    con.close()
    posts = Counter(person(who(n, repeat_pct))["email"] for n in accepted)
    return {
        "accepted": len(accepted),
        "no_journal_row": sum(max(0, count - len(journal[e])) for e, count in posts.items()),
        "not_processed": sum(status != "processed" for e in posts for status, _ in journal[e]),
        "no_lead": sum(count for e, count in posts.items() if e not in leads),
        "merged": sum(outcome == "merged" for e in posts for _, outcome in journal[e]),
        "second_posts": sum(who(n, repeat_pct) != n for n in accepted),
        "pending_consents": consents,
        "confirmation_tasks": tasks,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=max(2, os.cpu_count() or 1),  # what `leadbase serve` starts by default
        help="web processes (default: one per core, at least 2, as leadbase serve)",
    )
    parser.add_argument(
        "--threads", type=int, default=8, help="threads per web process (default 8, as leadbase serve)"
    )
    parser.add_argument(
        "--no-double-opt-in",
        action="store_true",
        help="the form without double opt-in: no confirmation emails (shows what they cost)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=3,
        help="runs, each on a fresh server and database; the figures are the medians "
        "(a shared machine's speed drifts by half within minutes)",
    )
    parser.add_argument(
        "--repeat-pct",
        type=whole_number(0, 50),
        default=0,
        help="the share of posts, in %% (0-50), by a person who posted before (merged into their lead)",
    )
    parser.add_argument(
        "--posts-per-connection",
        type=whole_number(0),
        default=50,
        help="posts a connection carries before it is closed and a new one opened (0: no limit)",
    )
    parser.add_argument(
        "--smtp",
        choices=("sink", "aiosmtpd"),
        default="sink",
        help="the SMTP server taking the confirmation emails, on the same cores: benchmarks/smtp_sink.py "
        "(default; a few µs of CPU per email) or aiosmtpd (about 0.5 ms per email)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument(
        "--load", nargs=4, metavar=("PORT", "FIRST", "COUNT", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.load:
        port, first, count, out = args.load
        generate_load(int(port), int(first), int(count), args.connections, args.repeat_pct,
                      args.posts_per_connection, out)
        return

    runs = []
    for number in range(1, args.runs + 1):
        run = measure(args)
        runs.append(run)
        per_post = {role: round(ms, 2) for role, ms in run["per_post"].items()}
        emit({"figure": "form_submissions_per_s", "run": number, "value": round(run["rate"]),
              "requests": run["requests"], "elapsed_s": round(run["elapsed"], 2),
              "connections": args.connections, "web_workers": args.workers, "web_threads": args.threads,
              "machine": machine()})
        emit({"figure": "form_latency_ms", "run": number, "p50": round(run["p50"], 1),
              "p99": round(run["p99"], 1), "max": round(run["max"], 1)})
        emit({"figure": "cpu_ms_per_post", "run": number, **per_post,
              "total": round(sum(run["per_post"].values()), 2), "web_process_shares_pct": run["web_shares"]})
        emit({"figure": "form_errors", "run": number, "non_2xx": run["errors"], "received_202": run["received"]})
        emit({"figure": "form_lost", "run": number, "value": run["lost"], **run["check"]})
        if run["check"]["merged"] != run["check"]["second_posts"]:
            raise SystemExit(f"{run['check']['second_posts']} second posts made {run['check']['merged']} merges")
        emit({"figure": "speed_gauge_ms", "run": number, "value": run["gauge_ms"]})
        emit({"figure": "confirmation_email_delay", "run": number, **run["emails"]})

    rates = [r["rate"] for r in runs]
    rate, p50 = median(rates), median([r["p50"] for r in runs])
    p99s = [r["p99"] for r in runs]
    p99 = median(p99s)
    roles = runs[0]["per_post"].keys()
    per_post = {role: round(median([r["per_post"][role] for r in runs]), 2) for role in roles}
    total_ms = sum(per_post.values())
    errors, received = sum(r["errors"] for r in runs), sum(r["received"] for r in runs)
    lost, accepted = sum(r["lost"] for r in runs), sum(r["check"]["accepted"] for r in runs)
    mails = [r["emails"] for r in runs]
    expected, within = sum(m["emails_expected"] for m in mails), sum(m["within_5s"] for m in mails)
    arrived = sum(m["emails_arrived"] for m in mails)
    mail_p50 = median([m["p50_s"] for m in mails]) if arrived else None
    mail_p99 = median([m["p99_s"] for m in mails]) if arrived else None
    mail_max = max((m["max_s"] for m in mails if m["max_s"] is not None), default=None)
    emit({"figure": "form_median", "runs": len(runs), "posts_per_s": round(rate),
          "posts_per_s_range": [round(min(rates)), round(max(rates))], "p50_ms": round(p50, 1),
          "p99_ms": round(p99, 1), "p99_ms_range": [round(min(p99s), 1), round(max(p99s), 1)],
          "cpu_ms_per_post": per_post, "non_2xx": errors, "lost": lost}
         | ({} if args.no_double_opt_in else {"emails_within_5s": within, "emails_expected": expected}))
    if not args.no_doc:
        posts = f"{len(runs)} runs of {args.requests:,} posts, {args.connections} keep-alive connections" + (
            f" of {args.posts_per_connection} posts each" if args.posts_per_connection else ""
        )
        repeats = f", {args.repeat_pct} % of posts by people known" if args.repeat_pct else ""
        rows = [
            (
                "submissions accepted per second",
                f"median {rate:,.0f} /s, range {min(rates):,.0f}–{max(rates):,.0f} /s ({posts})",
                "≥ 1,000 /s",
            ),
            (
                "latency p50 / p99 (medians)",
                f"{p50:.1f} ms / {p99:.1f} ms (p99 range {min(p99s):.1f}–{max(p99s):.1f} ms)",
                "p99 ≤ 50 ms",
            ),
            (
                "CPU per post (medians): web / serve (its checkpoints) / worker / SMTP server / load generator",
                (
                    f"{per_post['web']} / {per_post['serve']} / {per_post['worker']} / {per_post['smtp_server']} / "
                    f"{per_post['load_generator']} ms = {total_ms:.2f} ms "
                    f"(all {os.cpu_count()} cores busy: {(os.cpu_count() or 1) * 1000 / total_ms:,.0f} posts/s)"
                ),
                "—",
            ),
            (
                "each web process's share of the web CPU, per run (an even spread of the connections)",
                " · ".join("/".join(f"{share}" for share in r["web_shares"]) + " %" for r in runs),
                "—",
            ),
            ("errors (non-2xx) / kept for replay (202), all runs", f"{errors} / {received}", "0"),
            ("lost (2xx without journal row or lead), all runs", f"{lost} of {accepted:,}", "0"),
            (
                "machine speed gauge before each run: a fixed Python loop, best of 5 (lower is faster)",
                " / ".join(f"{r['gauge_ms']} ms" for r in runs),
                "—",
            ),
        ]
        if not args.no_double_opt_in:
            rows.append(
                (
                    "confirmation email at the SMTP server, after the answer: p50 / p99 (medians) / max",
                    (
                        f"{mail_p50} s / {mail_p99} s / {mail_max} s "
                        f"({within:,} of {expected:,} within 5 s, {arrived:,} arrived)"
                    ),
                    "≤ 5 s",
                )
            )
        update_doc(
            "Public form submissions over HTTP, SQLite"
            + (", without double opt-in (no emails)" if args.no_double_opt_in else "") + repeats
            + (", aiosmtpd as the SMTP server" if args.smtp == "aiosmtpd" and not args.no_double_opt_in else ""),
            f"python benchmarks/bench_forms.py --requests {args.requests} --runs {args.runs} "
            f"--connections {args.connections} --workers {args.workers} --threads {args.threads}"
            + (" --no-double-opt-in" if args.no_double_opt_in else "")
            + (f" --repeat-pct {args.repeat_pct}" if args.repeat_pct else "")
            + (f" --posts-per-connection {args.posts_per_connection}" if args.posts_per_connection != 50 else "")
            + (" --smtp aiosmtpd" if args.smtp == "aiosmtpd" else ""),
            rows,
        )


def measure(args: argparse.Namespace) -> dict:
    """One run: a fresh data dir and server, the warm-up, then ``args.requests`` posts; the
    figures of the run."""
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="lb-bench-forms-"))
    if args.smtp == "aiosmtpd":
        from aiosmtpd.controller import Controller

        inbox: Inbox | SmtpSink = Inbox()
        smtp_port = free_port()
        smtp: Controller | SmtpSink = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        smtp.start()
    else:
        smtp = inbox = SmtpSink().start()
        smtp_port = smtp.port
    env = {
        **os.environ,
        "LEADBASE_DATA_DIR": str(work / "data"),
        "DJANGO_SETTINGS_MODULE": "leadbase.settings",
        "LEADBASE_FORM_RATE_PER_IP": "100000000",
        "LEADBASE_FORM_RATE_PER_FORM": "100000000",
        "LEADBASE_FORM_MIN_FILL_SECONDS": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "LEADBASE_LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    port = free_port()
    server = None
    try:
        subprocess.run([python, "-m", "leadbase", "migrate", "-v", "0"], env=env, check=True)
        setup = SETUP.replace('"double_opt_in": True', '"double_opt_in": False') if args.no_double_opt_in else SETUP
        subprocess.run([python, "-m", "leadbase", "shell", "-c", setup], env=env, check=True)
        log = (work / "serve.log").open("w")
        server = subprocess.Popen(
            [
                python,
                "-m",
                "leadbase",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("leadbase serve did not come up; see " + str(work / "serve.log"))

        def run_load(first: int, count: int) -> dict:
            out = work / f"load-{first}.json"
            subprocess.run(
                [
                    python,
                    __file__,
                    "--connections",
                    str(args.connections),
                    "--repeat-pct",
                    str(args.repeat_pct),
                    "--posts-per-connection",
                    str(args.posts_per_connection),
                    "--load",
                    str(port),
                    str(first),
                    str(count),
                    str(out),
                ],
                check=True,
            )
            return json.loads(out.read_text())

        warmup = run_load(0, WARMUP)["results"]  # warm the processes and SQLite's cache; verified, not timed
        gauge = speed_gauge_ms()  # the server idle: how fast the machine is just before the load
        before = cpu_seconds(server.pid)
        load = run_load(WARMUP, args.requests)
        emails = confirmation_delays(
            warmup, load["results"], args.repeat_pct, inbox, drain_s=0 if args.no_double_opt_in else 120
        )
        used = {role: seconds - before.get(role, 0.0) for role, seconds in cpu_seconds(server.pid).items()}
        shares = web_shares(server.pid)
    finally:
        smtp.stop()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    results = load["results"]
    ok = sorted(r[2] for r in results if 200 <= r[1] < 300)
    errors = sum(1 for r in results if not 200 <= r[1] < 300)
    received = sum(1 for r in results if r[1] == 202)
    check = verify(
        work / "data" / "leadbase.sqlite3",
        [r[0] for r in warmup + results if 200 <= r[1] < 300],
        args.repeat_pct,
    )
    per_post = {role: seconds * 1000 / len(results) for role, seconds in used.items()}
    shutil.rmtree(work, ignore_errors=True)
    return {
        "rate": len(ok) / load["elapsed"],
        "requests": len(results),
        "elapsed": load["elapsed"],
        "p50": percentile(ok, 0.50) * 1000,
        "p99": percentile(ok, 0.99) * 1000,
        "max": ok[-1] * 1000,
        "per_post": per_post,
        "errors": errors,
        "received": received,
        "lost": check["no_journal_row"] + check["no_lead"],
        "check": check,
        "emails": emails,
        "gauge_ms": gauge,
        "web_shares": shares,
    }


if __name__ == "__main__":
    main()
