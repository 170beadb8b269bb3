"""Import benchmark: `leadbase import` of generated leads on SQLite vs a bare reference script.

    python benchmarks/bench_import.py [--rows 1000000] [--pairs 3]

Generates (once, cached in benchmarks/out/) a CSV of mixed countries and phone formats with
about 5 % duplicates and 3 % bad rows, then in fresh data dirs times:
- the reference: csv module + phonenumbers + an email check + one sqlite3 executemany, in one
  process (what a careful script would do, without identity rules, touches or a report);
- `leadbase import --json` (validation on every core, identity resolution, touches).
Reference and import run ``--pairs`` times (default 3), one after the other: the machine's
speed drifts, so each import is compared with the reference run just before it, and the
figures are the medians. Prints one JSON line per figure and updates docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from statistics import median
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import OUT, emit, machine, run_measured, update_doc  # noqa: E402

REFERENCE = r'''
import csv, re, sqlite3, sys
import phonenumbers
from email_validator import validate_email, EmailNotValidError

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
path, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE TABLE lead (id INTEGER PRIMARY KEY, name TEXT, email TEXT, phone TEXT, company TEXT)")
rows = []
with open(path, newline="", encoding="utf-8") as f:
    reader = csv.reader(f)
    next(reader)
    for name, email, phone, company, title, country, source in reader:
        email = email.strip().lower()
        if email and not EMAIL.match(email):
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                email = ""
        e164 = ""
        if phone:
            try:
                n = phonenumbers.parse(phone, "US")
                if phonenumbers.is_valid_number(n):
                    e164 = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
            except phonenumbers.NumberParseException:
                pass
        if name and (email or e164):
            rows.append((name, email, e164, company))
con.executemany("INSERT INTO lead (name, email, phone, company) VALUES (?, ?, ?, ?)", rows)
con.commit()
print(len(rows))
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--pairs", type=int, default=3,
        help="reference and import run this many times, one after the other; the figures are the "
             "medians (a shared machine's speed drifts by a third within minutes)",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"leads-{args.rows}.csv"
    if not csv_path.exists():
        from leadbase.leads.sample import write_csv

        write_csv(csv_path, args.rows)
    python = sys.executable
    leadbase = [python, "-m", "leadbase"]
    work = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    pairs = []
    try:
        ref_script = work / "reference.py"
        ref_script.write_text(REFERENCE)
        for pair in range(1, args.pairs + 1):
            ref_db = work / f"ref-{pair}.sqlite3"
            ref_s, ref_mb, _ = run_measured([python, str(ref_script), str(csv_path), str(ref_db)])
            ref_db.unlink()
            emit({"figure": "reference_script_s", "pair": pair, "rows": args.rows, "seconds": round(ref_s, 2),
                  "peak_mb": round(ref_mb)})

            data = work / f"data-{pair}"
            env = {**os.environ, "LEADBASE_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": "leadbase.settings"}
            env.pop("DATABASE_URL", None)
            run_measured([*leadbase, "createuser", "bench@example.com", "--password", "bench-password-1"], env)
            imp_s, imp_mb, out = run_measured([*leadbase, "import", str(csv_path), "--json"], env)
            report = json.loads(out.strip().splitlines()[-1])
            emit({"figure": "import_s", "pair": pair, "rows": report["rows"], "created": report["created"],
                  "merged": report["merged"], "rejected": report["rejected"], "seconds": round(imp_s, 2),
                  "rows_per_s": round(args.rows / imp_s), "peak_mb": round(imp_mb),
                  "vs_reference": round(imp_s / ref_s, 2), "machine": machine()})
            pairs.append((ref_s, imp_s, imp_mb))
            if pair < args.pairs:
                shutil.rmtree(data)

        rerun_s, _, out = run_measured([*leadbase, "import", str(csv_path), "--json"], env)
        again = json.loads(out.strip().splitlines()[-1])
        emit({"figure": "reimport_s", "rows": again["rows"], "created": again["created"], "seconds": round(rerun_s, 2)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    refs, imps = [p[0] for p in pairs], [p[1] for p in pairs]
    ratios = [imp / ref for ref, imp, _ in pairs]
    peak = max(p[2] for p in pairs)
    emit({"figure": "import_median", "pairs": len(pairs), "import_s": round(median(imps), 2),
          "reference_s": round(median(refs), 2), "vs_reference": round(median(ratios), 2),
          "vs_reference_range": [round(min(ratios), 2), round(max(ratios), 2)], "peak_mb": round(peak)})
    if not args.no_doc:

        def spread(values: list[float], fmt: str) -> str:
            if len(values) == 1:
                return fmt.format(values[0])
            return f"median {fmt.format(median(values))}, range {fmt.format(min(values))}–{fmt.format(max(values))}"

        update_doc(
            f"CSV import, {args.rows:,} rows, SQLite",
            f"python benchmarks/bench_import.py --rows {args.rows} --pairs {args.pairs}",
            [
                ("runs (reference, then import, one after the other)", f"{len(pairs)}", "—"),
                ("`leadbase import` wall time", f"{spread(imps, '{:.1f} s')}; {args.rows / median(imps):,.0f} rows/s",
                 "≤ 40 s (goal 20 s)"),
                ("peak memory (all processes)", f"{peak:.0f} MB", "≤ 500 MB"),
                ("reference script (csv + phonenumbers + email check + executemany)", spread(refs, "{:.1f} s"), "—"),
                ("import ÷ reference, each run against the reference just before it", spread(ratios, "{:.2f}×"),
                 "≤ 1.5×, goal < 1×"),
                ("outcome", f"{report['created']:,} created, {report['merged']:,} merged, "
                            f"{report['rejected']:,} rejected", "—"),
                ("re-import of the same file", f"{rerun_s:.1f} s, {again['created']} created", "0 created"),
            ],
        )

if __name__ == "__main__":
    main()
