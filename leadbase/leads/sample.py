"""Realistic generated leads for `leadbase demo` and the benchmarks (deterministic per seed).

Rows look like what marketers really import: several countries, phone numbers typed every way
(E.164, national with trunk prefix, spaces, dots, 00 prefix, extensions), mixed-case emails,
some duplicates of earlier rows (same email with another spelling of the name, or the same phone
and name), and a small share of bad rows (placeholder names, broken addresses, no contact).
"""

from __future__ import annotations

import csv
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import phonenumbers

COUNTRIES = {
    "US": ("United States", ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Emma", "Ethan", "Olivia", "Noah", "Ava", "Liam", "Sophia", "Mason"],
           ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Moore", "Taylor", "Anderson", "Thomas", "Jackson", "Martin", "Lee"]),
    "DE": ("Germany", ["Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Jürgen", "Sophie", "Paul", "Mia", "Leon", "Emma", "Finn", "Hannah", "Elias", "Lina"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann"]),
    "FR": ("France", ["Louis", "Camille", "Hugo", "Chloé", "Léo", "Inès", "Étienne", "Manon", "Gabriel", "Louise", "Raphaël", "Jade", "Arthur", "Alice", "Jules", "Léa"],
           ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand"]),
    "GB": ("United Kingdom", ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Noah", "Olivia", "Leo", "Lily", "Oscar", "Freya", "Arthur", "Grace"],
           ["Taylor", "Wilson", "Evans", "Roberts", "Walker", "Wright", "Thompson", "White", "Johnson", "Brown", "Davies", "Hughes", "Edwards", "Green", "Hall", "Wood"]),
    "ES": ("Spain", ["Hugo", "Lucía", "Martín", "Sofía", "Pablo", "María", "Álvaro", "Paula", "Daniel", "Carmen", "Alejandro", "Julia", "Manuel", "Elena", "Javier", "Marta"],
           ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz"]),
    "BR": ("Brazil", ["Miguel", "Alice", "Arthur", "Laura", "Heitor", "Valentina", "Davi", "Helena", "Gabriel", "Manuela", "Bernardo", "Beatriz", "Lorenzo", "Sophia", "Théo", "Isabella"],
           ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Ferreira", "Costa", "Rodrigues", "Almeida", "Nascimento", "Carvalho", "Gomes", "Martins", "Araújo", "Ribeiro"]),
    "IN": ("India", ["Aarav", "Ananya", "Vivaan", "Diya", "Aditya", "Isha", "Arjun", "Saanvi", "Vihaan", "Aadhya", "Reyansh", "Kiara", "Krishna", "Myra", "Ishaan", "Anika"],
           ["Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Rao", "Joshi", "Mehta", "Desai", "Chopra", "Malhotra", "Bose", "Das"]),
    "JP": ("Japan", ["Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura", "Sora", "Mei", "Ren", "Yuna", "Hinata", "Rin", "Kaito", "Koharu"],
           ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Yoshida", "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue"]),
}
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Labs", "Stark Industries", "Wayne Enterprises",
             "Hooli", "Vandelay Imports", "Soylent", "Tyrell Systems", "Cyberdyne", "Aperture Science",
             "Wonka Foods", "Pied Piper", "Massive Dynamic", "Oscorp", ""]
TITLES = ["CEO", "CTO", "Head of Marketing", "Sales Manager", "Engineer", "Founder", "Buyer", "Office Manager", ""]
SOURCES = ["Trade show", "Webinar", "Website", "Referral", "LinkedIn", "Partner list"]
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "gmx.de", "orange.fr", "hotmail.co.uk"]
HEADER = ["Full Name", "E-mail", "Phone", "Company", "Job Title", "Country", "Lead Source"]


def _phone(rng: random.Random, region: str) -> str:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    digits = str(example.national_number)
    # Vary the subscriber part only, so the number stays in a valid range for the region.
    tail = "".join(rng.choice("0123456789") for _ in range(6))
    number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=int(digits[:-6] + tail))
    style = rng.random()
    if style < 0.35:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if style < 0.6:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    if style < 0.8:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if style < 0.9:
        return "00" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return national.replace(" ", ".") + (f" ext. {rng.randint(10, 999)}" if rng.random() < 0.3 else "")


def ascii_key(text: str) -> str:
    """``Chloé`` → ``chloe``: names as people write them in email addresses."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def generate_rows(count: int, *, seed: int = 7, duplicate_rate: float = 0.05, bad_rate: float = 0.03) -> Iterator[list[str]]:
    """``count`` CSV rows in HEADER order; about ``duplicate_rate`` repeat an earlier person."""
    rng = random.Random(seed)
    regions = list(COUNTRIES)
    recent: list[list[str]] = []
    for i in range(count):
        roll = rng.random()
        if recent and roll < duplicate_rate:
            row = list(rng.choice(recent))
            if rng.random() < 0.5:
                row[1] = row[1].upper()  # same address, other spelling
            else:
                row[1] = ""  # same phone and name, no email
            yield row
            continue
        region = rng.choice(regions)
        country, given_names, family_names = COUNTRIES[region]
        given, family = rng.choice(given_names), rng.choice(family_names)
        company = rng.choice(COMPANIES)
        domain = (ascii_key(company).replace(" ", "") + ".com") if company and rng.random() < 0.6 else rng.choice(FREE_MAIL)
        email = f"{ascii_key(given)}.{ascii_key(family)}{i}@{domain}"
        if rng.random() < 0.2:
            email = email.title()
        row = [f"{given} {family}", email, _phone(rng, region) if rng.random() < 0.8 else "", company,
               rng.choice(TITLES), country if rng.random() < 0.7 else region, rng.choice(SOURCES)]
        if roll > 1 - bad_rate:
            kind = rng.randrange(4)
            if kind == 0:
                row[0] = rng.choice(["N/A", "test test", "=HYPERLINK(\"x\")", "12345"])
            elif kind == 1:
                row[1] = row[1].replace("@", "@@")
                row[2] = ""
            elif kind == 2:
                row[1] = row[2] = ""
            else:
                row[1] = row[1].replace("@", " at ")
        recent.append(row)
        if len(recent) > 1000:
            recent.pop(rng.randrange(len(recent)))
        yield row


def write_csv(path: Path, count: int, **options: float) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(generate_rows(count, **options))  # type: ignore[arg-type]
    return path
