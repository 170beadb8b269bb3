"""Micro-benchmark of the contact-cleaning helpers: µs per call on a realistic generated mix.

    python benchmarks/bench_cleaning.py [--count 20000] [--repeat 5] [--no-doc]

Each figure is the best of --repeat passes over --count generated inputs (fixed seed), timed
in CPU time of this process, so it is the cost on one core even while the machine is busy. Figures named `*_reference` time the libraries alone on the same
inputs (phonenumbers parse + is_valid_number + E.164 + region; email-validator), which is what
the fast paths are measured against. Prints one JSON line per figure and updates
docs/benchmarks.md unless --no-doc.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import email_validator
import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from benchmarks.common import emit, machine, update_doc
from leadbase.lib.cleaning import (
    Invalid,
    clean_email,
    clean_name,
    clean_phone,
    country_code,
    name_key,
    names_agree,
    split_name,
)

# Where imported leads come from; each region's numbers are written the ways people do.
REGIONS = ["US", "US", "US", "GB", "GB", "DE", "DE", "FR", "CA", "AU", "IN", "BR", "MX", "ES",
           "IT", "NL", "PL", "SE", "JP", "ZA", "NG", "AE", "SG", "AR"]
GIVEN = ["James", "Mary", "Robert", "Patricia", "Jennifer", "Michael", "Linda", "David", "Anna",
         "Lukas", "Sofía", "José", "Chloé", "Ødegaard", "Priya", "Wei", "Yuki", "Olusegun",
         "Mohammed", "Nguyễn Văn", "Siobhán", "Zoë", "Jean-Luc", "Mary-Jane"]
FAMILY = ["Smith", "Johnson", "Williams", "Brown", "Müller", "Schmidt", "García", "Martínez",
          "Rossi", "Dubois", "O'Brien", "van der Berg", "Kowalski", "Sato", "Li", "Patel",
          "Okafor", "Silva", "Nilsson", "Núñez", "Kim"]
DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.co.uk", "gmx.de", "web.de",
           "orange.fr", "acme-corp.com", "example.org", "mail.company.co.uk", "uni-bonn.de"]
COUNTRIES = ["US", "USA", "United States", "DE", "Germany", "Deutschland", "GB", "UK",
             "United Kingdom", "France", "FR", "España", "Canada", "CA", "Brasil", "India", ""]


def email_mix(rnd: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        local = f"{rnd.choice(GIVEN)}.{rnd.choice(FAMILY)}".replace(" ", "").replace("'", "")
        local = local.encode("ascii", "ignore").decode() or "lead"
        address = f"{local}{rnd.randrange(100) if rnd.random() < 0.3 else ''}@{rnd.choice(DOMAINS)}"
        roll = rnd.random()
        if roll < 0.03:
            address = f"info@{rnd.choice(DOMAINS)}"
        elif roll < 0.05:
            address = f"{rnd.choice(FAMILY)} <{address}>"
        elif roll < 0.06:
            address = f"josé@bücher-{rnd.randrange(99)}.de"
        elif roll < 0.11:  # the usual junk: no @, double @, spaces, dots, reserved domains
            address = rnd.choice([address.replace("@", ""), address.replace("@", "@@"),
                                  address.replace(".", " ", 1), address.replace("@", ".@"),
                                  f"{local}@test.local"])
        out.append(address if rnd.random() < 0.9 else f" {address}\t")
    return out


def phone_mix(rnd: random.Random, count: int, style: str) -> list[tuple[str, str]]:
    """(text, region) pairs of mostly valid numbers (example numbers, last digits varied)."""
    out = []
    while len(out) < count:
        region = rnd.choice(REGIONS)
        example = phonenumbers.example_number_for_type(
            region, rnd.choice([PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE])
        )
        digits = str(example.national_number)
        example.national_number = int(digits[:-2] + f"{rnd.randrange(100):02d}")
        if style == "e164":
            text = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        elif style == "national":
            text = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
            text = text.replace(" ", rnd.choice([" ", "-", ".", " "]))
        elif style == "idd":
            text = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
            text = "00" + text[1:]
            region = rnd.choice(["DE", "GB", "FR", "ES", "IT", "NL"])  # they dial out with 00
        else:
            text = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
            text += rnd.choice([" ext. ", " x", " ext "]) + str(rnd.randrange(1, 9999))
        out.append((text, region))
    return out


def name_mix(rnd: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        name = f"{rnd.choice(GIVEN)} {rnd.choice(FAMILY)}"
        roll = rnd.random()
        if roll < 0.05:
            name = f"{rnd.choice(['Dr.', 'Mr', 'Ms.', 'Prof.'])} {name}"
        elif roll < 0.08:
            name = rnd.choice(["n/a", "test", "=SUM(A1)", "12345", "john doe", "-", "asdf"])
        elif roll < 0.10:
            name = f"  {name.upper()}  "
        out.append(name)
    return out


def per_call(
    function: Callable[..., object], inputs: Sequence, repeat: int, star: bool = False
) -> float:
    """Best CPU µs per call of `function` over `inputs` (Invalid is an answer, not a failure)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for item in inputs:
            try:
                function(*item) if star else function(item)
            except (Invalid, email_validator.EmailNotValidError, phonenumbers.NumberParseException):
                pass
        best = min(best, time.process_time() - started)
    return best / len(inputs) * 1e6


def phonenumbers_reference(text: str, region: str) -> tuple[str, str] | None:
    number = phonenumbers.parse(text, region)
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    rnd = random.Random(20260101)
    figures: list[tuple[str, float, float | None]] = []  # (name, µs, reference µs)

    def record(name: str, mine: float, reference: float | None = None, **extra: object) -> None:
        figure = {"figure": f"{name}_us", "us_per_call": round(mine, 2), "calls": args.count}
        figure |= extra
        if reference is not None:
            figure |= {"reference_us": round(reference, 2), "speedup": round(reference / mine, 1)}
        emit(figure)
        figures.append((name, mine, reference))

    emails = email_mix(rnd, args.count)
    record(
        "clean_email",
        per_call(clean_email, emails, args.repeat),
        per_call(
            lambda a: email_validator.validate_email(a.strip(), check_deliverability=False),
            emails,
            args.repeat,
        ),
        mix="90% ordinary, 3% role, 2% Name <addr>, 1% IDN, 5% invalid; 10% with blanks around",
    )
    for style, label in [("e164", "E.164"), ("national", "national with punctuation"),
                         ("idd", "00-prefixed international"), ("extension", "with extension")]:
        phones = phone_mix(rnd, args.count, style)
        record(
            f"clean_phone_{style}",
            per_call(clean_phone, phones, args.repeat, star=True),
            per_call(phonenumbers_reference, phones, args.repeat, star=True),
            input=label,
        )
    names = name_mix(rnd, args.count)
    record("clean_name", per_call(clean_name, names, args.repeat), mix="many scripts, 3% junk")
    good_names = [name for name in names if not name.strip().startswith(("n/a", "=", "-"))]
    record("split_name", per_call(split_name, good_names, args.repeat))
    record("name_key", per_call(name_key, good_names, args.repeat))
    pairs = [(a, rnd.choice([a, b, f"{a.split()[0][0]}. {a.split()[-1]}"]))
             for a, b in zip(good_names, reversed(good_names), strict=True)]
    record("names_agree", per_call(names_agree, pairs, args.repeat, star=True))
    countries = [rnd.choice(COUNTRIES) for _ in range(args.count)]
    record("country_code", per_call(country_code, countries, args.repeat), mix="17 spellings")
    emit({"figure": "machine", **machine()})

    if not args.no_doc:
        update_doc(
            "Contact cleaning helpers, µs per call",
            f"python benchmarks/bench_cleaning.py --count {args.count} --repeat {args.repeat}",
            [
                (f"`{name}`", f"{mine:.1f} µs", f"library alone: {ref:.1f} µs" if ref else "")
                for name, mine, ref in figures
            ],
        )


if __name__ == "__main__":
    main()
