"""Contacts: names, E.164 numbers and languages of the tenant's customers, and its staff and cafés."""

from __future__ import annotations

import random
from collections.abc import Sequence

# (country, language, calling code, mobile prefixes, digits after the prefix, weight)
COUNTRIES = (
    ("DE", "de", "+49", ("151", "152", "157", "160", "170", "176"), 8, 30),
    ("AT", "de", "+43", ("664", "660", "676"), 7, 4),
    ("BR", "pt", "+55", ("119", "219", "319", "419"), 8, 20),
    ("PT", "pt", "+351", ("91", "92", "93", "96"), 7, 6),
    ("ES", "es", "+34", ("6", "7"), 8, 12),
    ("MX", "es", "+52", ("55", "33", "81"), 8, 8),
    ("AR", "es", "+54", ("911", "9351"), 7, 4),
    ("GB", "en", "+44", ("7",), 9, 6),
    ("US", "en", "+1", ("212", "415", "646", "305", "512"), 7, 5),
    ("IN", "en", "+91", ("98", "99", "97", "90"), 8, 5),
)
FIRST_NAMES = {
    "de": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Tobias", "Katharina", "Mehmet",
           "Aylin"),
    "pt": ("João", "Ana", "Pedro", "Mariana", "Lucas", "Beatriz", "Rafael", "Camila", "Thiago", "Larissa"),
    "es": ("Carlos", "Lucía", "Javier", "Sofía", "Diego", "Valentina", "Mateo", "Camila", "Alejandro", "Isabel"),
    "en": ("James", "Emily", "Oliver", "Priya", "Aisha", "Daniel", "Chloe", "Arjun", "Grace", "Michael"),
}
LAST_NAMES = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Wagner", "Hoffmann", "Yılmaz"),
    "pt": ("Silva", "Souza", "Oliveira", "Santos", "Pereira", "Costa", "Almeida", "Ferreira"),
    "es": ("García", "Martínez", "López", "Hernández", "González", "Rodríguez", "Pérez", "Sánchez"),
    "en": ("Smith", "Patel", "Johnson", "Williams", "Brown", "Khan", "Taylor", "Okafor"),
}
TAGS = ("newsletter", "vip", "espresso", "filter-coffee", "subscription", "cafe-regular", "wholesale", "lapsed-90d")
MANAGER = {"name": "Jana Krüger", "phone": "+4915201234567", "tags": ["staff", "manager"], "language": "de"}
OPS_MANAGER = {"name": "Rafael Costa", "phone": "+5511987650123", "tags": ["staff"], "language": "pt"}
CAFES = {"de": "Kreuzberg", "pt": "Pinheiros", "es": "Malasaña", "en": "Kreuzberg"}

# One entry per unit of weight, so a single random index picks a country (broadcasts make many contacts).
_COUNTRY_TABLE = tuple((lang, code, prefixes, digits, FIRST_NAMES[lang], LAST_NAMES[lang])
                       for _, lang, code, prefixes, digits, weight in COUNTRIES for _ in range(weight))


def _tag_table(tags: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    """Tags chosen by 3 random bits each (a tag when its bits are 0: 1 in 8), for every bit pattern."""
    return tuple(tuple(t for i, t in enumerate(tags) if (bits >> 3 * i) & 7 == 0) for bits in range(8 ** len(tags)))


_TAGS_LOW, _TAGS_HIGH = _tag_table(TAGS[:4]), _tag_table(TAGS[4:])


def make_contact(rng: random.Random, *, tags: Sequence[str] = ()) -> dict:
    lang, code, prefixes, digits, firsts, lasts = _COUNTRY_TABLE[int(rng.random() * len(_COUNTRY_TABLE))]
    # one draw of random bits feeds every field: contact generation dominates the broadcasts
    bits = rng.getrandbits(96)
    phone = code + prefixes[(bits & 0xFF) % len(prefixes)] + str((bits >> 48) % 10**digits).zfill(digits)
    name = f"{firsts[(bits >> 8 & 0xFF) % len(firsts)]} {lasts[(bits >> 16 & 0xFF) % len(lasts)]}"
    extra = _TAGS_LOW[bits >> 24 & 0xFFF] + _TAGS_HIGH[bits >> 36 & 0xFFF]
    return {"name": name, "phone": phone, "tags": [*tags, *extra], "language": lang}


def first_name(contact: dict) -> str | None:
    name = contact.get("name")
    return name.split()[0] if name else None


def contact_label(contact: dict) -> str:
    return first_name(contact) or contact.get("phone") or "unknown"


def order_number(rng: random.Random) -> str:
    return f"#VC-{rng.randint(10000, 48999)}"
