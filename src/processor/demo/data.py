"""Deterministic, realistic-looking contact data for the demo and the benchmarks.

Generated locally from small name lists with a seeded generator: no network, no extra
dependency, and the same seed always gives the same people (so scans can look for them).
"""

from __future__ import annotations

import csv
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

FIRST = (
    "Anne",
    "Mette",
    "Lars",
    "Søren",
    "Ida",
    "Freja",
    "Mads",
    "Jens",
    "Karen",
    "Emil",
    "Sofie",
    "Oliver",
    "Astrid",
    "Nikolaj",
    "Camilla",
    "Rasmus",
    "Line",
    "Jonas",
    "Maja",
    "Kasper",
)
LAST = (
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
)
CITIES = (
    ("1050", "København K"),
    ("8000", "Aarhus C"),
    ("5000", "Odense C"),
    ("9000", "Aalborg"),
    ("6700", "Esbjerg"),
    ("7100", "Vejle"),
    ("4000", "Roskilde"),
)
STREETS = ("Strandvejen", "Vestergade", "Nørregade", "Algade", "Skovvej", "Kirkevej", "Bredgade")
INTERESTS = ("running", "books", "hiking", "cooking", "design", "music", "cycling")
HEADER = [
    "email",
    "phone",
    "first_name",
    "last_name",
    "address",
    "postal_code",
    "city",
    "country",
    "gender",
    "birth_date",
    "interests",
    "reference",
    "shoe_size",
]


def people(count: int, seed: int, domain: str = "example.dk") -> Iterator[dict[str, str]]:
    """Yield `count` distinct people as CSV rows of the field vocabulary."""
    rnd = random.Random(seed)  # noqa: S311 - demo data, not security
    for i in range(count):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        postal, city = rnd.choice(CITIES)
        yield {
            "email": f"{first.lower()}.{last.lower()}.{seed}x{i}@{domain}".replace("ø", "oe"),
            "phone": "+45 " + " ".join(str(rnd.randint(10, 99)) for _ in range(4)),
            "first_name": first,
            "last_name": last,
            "address": f"{rnd.choice(STREETS)} {rnd.randint(1, 120)}",
            "postal_code": postal,
            "city": city,
            "country": "DK",
            "gender": rnd.choice(("female", "male", "")),
            "birth_date": (
                f"{rnd.randint(1950, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            ),
            "interests": ",".join(rnd.sample(INTERESTS, 2)),
            "reference": rnd.choice(("webshop", "newsletter-form", "store")),
            "shoe_size": str(rnd.randint(36, 46)),
        }


def write_csv(
    path: Path, rows: Iterator[dict[str, str]], extra_lines: list[str] | None = None
) -> int:
    """Write rows as CSV with the vocabulary header; returns how many rows were written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
        for line in extra_lines or []:
            handle.write(line + "\n")
    return count
