"""Import benchmark: `leadbase import` of generated leads on SQLite vs a bare reference script.

    python benchmarks/bench_import.py [--rows 1000000]

Generates (once, cached in benchmarks/out/) a CSV of mixed countries and phone formats with
about 5 % duplicates and 3 % bad rows, then in fresh data dirs times:
- the reference: csv module + phonenumbers + an email check + one sqlite3 executemany, in one
  process (what a careful script would do, without identity rules, touches or a report);
- `leadbase import --json` (validation on every core, identity resolution, touches).
Prints one JSON line per figure and updates docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
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
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"leads-{args.rows}.csv"
    if not csv_path.exists():
        from leadbase.leads.sample import write_csv

        write_csv(csv_path, args.rows)
    python = sys.executable
    work = Path(tempfile.mkdtemp(prefix="lb-bench-"))
    try:
        ref_script = work / "reference.py"
        ref_script.write_text(REFERENCE)
        ref_s, ref_mb, _ = run_measured([python, str(ref_script), str(csv_path), str(work / "ref.sqlite3")])
        emit({"figure": "reference_script_s", "rows": args.rows, "seconds": round(ref_s, 2), "peak_mb": round(ref_mb)})

        env = {**os.environ, "LEADBASE_DATA_DIR": str(work / "data"), "DJANGO_SETTINGS_MODULE": "leadbase.settings"}
        env.pop("DATABASE_URL", None)
        leadbase = [python, "-m", "leadbase"]
        run_measured([*leadbase, "createuser", "bench@example.com", "--password", "bench-password-1"], env)
        imp_s, imp_mb, out = run_measured([*leadbase, "import", str(csv_path), "--json"], env)
        report = json.loads(out.strip().splitlines()[-1])
        emit({"figure": "import_s", "rows": report["rows"], "created": report["created"], "merged": report["merged"],
              "rejected": report["rejected"], "seconds": round(imp_s, 2), "rows_per_s": round(args.rows / imp_s),
              "peak_mb": round(imp_mb), "vs_reference": round(imp_s / ref_s, 2), "machine": machine()})

        rerun_s, _, out = run_measured([*leadbase, "import", str(csv_path), "--json"], env)
        again = json.loads(out.strip().splitlines()[-1])
        emit({"figure": "reimport_s", "rows": again["rows"], "created": again["created"], "seconds": round(rerun_s, 2)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not args.no_doc:
        update_doc(
            f"CSV import, {args.rows:,} rows, SQLite",
            f"python benchmarks/bench_import.py --rows {args.rows}",
            [
                ("`leadbase import` wall time", f"{imp_s:.1f} s ({args.rows / imp_s:,.0f} rows/s)", "≤ 40 s (goal 20 s)"),
                ("peak memory (all processes)", f"{imp_mb:.0f} MB", "≤ 500 MB"),
                ("reference script (csv + phonenumbers + email check + executemany)", f"{ref_s:.1f} s", "—"),
                ("import ÷ reference", f"{imp_s / ref_s:.2f}×", "≤ 1.5×, goal < 1×"),
                ("outcome", f"{report['created']:,} created, {report['merged']:,} merged, {report['rejected']:,} rejected", "—"),
                ("re-import of the same file", f"{rerun_s:.1f} s, {again['created']} created", "0 created"),
            ],
        )


if __name__ == "__main__":
    main()
