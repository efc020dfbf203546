"""Fictitious personas of SALMU-mini: names, fake personal data and visual traits.

Personas are generated with Faker (one seeded instance per locale, ``Faker.seed_instance``),
across nine latin-script locales. Names, cities and other values are transliterated to ASCII
(NFKD, combining marks dropped, a few letters such as ``ł`` or ``ß`` mapped by hand) so that
the BPE captions stay short. Every first name and every last name is unique across the personas
and is never a word of the trait or scene captions, so a generic caption cannot contain a name.

Values are kept short on purpose, so that the longest sensitive caption fits a 32-token CLIP
context (the miniature's text tower):

- ``phone_number``: ``+<calling code> ### ### ###``;
- ``iban``: an 18-character IBAN in the Dutch layout (country code, two check digits that pass
  the ISO 13616 mod-97 check, a 4-letter bank code, 10 digits) with the persona's country code,
  written in groups of four like the real benchmark's captions;
- ``credit_card``: a 16-digit Visa or Mastercard number (Luhn-valid, from Faker), in groups of four;
- ``passport``: the locale's Faker passport number;
- ``emails``: one or two addresses built from the persona's name and a free e-mail domain of
  the locale;
- ``job``: an English Faker job title of at most three plain words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
from faker import Faker

from harness.benchmarks.base import IDENTITY_KEYS
from harness.builtin.mini import portraits, scenes
from harness.builtin.mini.portraits import PortraitTraits, random_traits

__all__ = [
    "ATTRIBUTE_TEMPLATES",
    "DATA_FIELDS",
    "FIELD_TO_METADATA_KEY",
    "LOCALES",
    "METADATA_KEYS",
    "Persona",
    "attribute_value",
    "make_personas",
    "metadata_record",
    "sensitive_caption",
]

#: Locale -> (ISO country code, international calling code).
LOCALES: dict[str, tuple[str, str]] = {
    "en_US": ("US", "1"),
    "en_GB": ("GB", "44"),
    "es_ES": ("ES", "34"),
    "fr_FR": ("FR", "33"),
    "de_DE": ("DE", "49"),
    "it_IT": ("IT", "39"),
    "pt_BR": ("BR", "55"),
    "nl_NL": ("NL", "31"),
    "pl_PL": ("PL", "48"),
}

#: The ``data_field`` strings of ``sensitive_set_captions_metadata.json``, in canonical order.
DATA_FIELDS: tuple[str, ...] = (
    "city",
    "job",
    "blood_type",
    "phone_number",
    "email",
    "iban",
    "credit_card",
    "passport",
)
#: data_field -> key of ``identities_metadata.json`` holding its value.
FIELD_TO_METADATA_KEY: dict[str, str] = {
    field: ("emails" if field == "email" else field) for field in DATA_FIELDS
}
#: The ten keys of an ``identities_metadata.json`` record.
METADATA_KEYS: tuple[str, ...] = IDENTITY_KEYS

#: Four paraphrase templates per data_field; each holds ``{name}`` and ``{value}``.
ATTRIBUTE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "city": (
        "{name} lives in {value}",
        "{name} resides in the city of {value}",
        "{name} is based in {value}",
        "The home town of {name} is {value}",
    ),
    "job": (
        "{name} works as {value}",
        "{name}'s occupation is {value}",
        "{name} is employed in the role of {value}",
        "The profession of {name}: {value}",
    ),
    "blood_type": (
        "{name} has blood type {value}",
        "{name}'s blood group is {value}",
        "Blood type of {name}: {value}",
        "The medical record of {name} lists blood type {value}",
    ),
    "phone_number": (
        "You can reach {name} at the phone number {value}",
        "{name}'s phone number is {value}",
        "Call {name} on {value}",
        "{name} can be contacted by phone at {value}",
    ),
    "email": (
        "Contact {name} via {value}",
        "{name}'s email address is {value}",
        "Write to {name} at {value}",
        "{name} reads the mail sent to {value}",
    ),
    "iban": (
        "{name}'s bank account IBAN {value}",
        "{name} banks with IBAN {value}",
        "Pay {name} at IBAN {value}",
        "The IBAN of {name} is {value}",
    ),
    "credit_card": (
        "{name}'s credit card number is {value}",
        "{name} pays with card {value}",
        "Card {value} belongs to {name}",
        "The credit card of {name}: {value}",
    ),
    "passport": (
        "{name}'s passport number is {value}",
        "{name} travels with passport {value}",
        "Passport {value} was issued to {name}",
        "The passport of {name} has number {value}",
    ),
}

_BLOOD_TYPES = ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-")
_MANUAL_ASCII = str.maketrans(
    {
        "\u0142": "l",  # l with stroke
        "\u0141": "L",
        "\u00df": "ss",  # sharp s
        "\u00f8": "o",  # o with stroke
        "\u00d8": "O",
        "\u00e6": "ae",
        "\u00c6": "AE",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u0111": "d",  # d with stroke
        "\u0110": "D",
        "\u0131": "i",  # dotless i
    }
)
_NAME_RE = re.compile(r"^[A-Z][a-z]{2,11}$")
_CITY_RE = re.compile(r"^[A-Za-z][A-Za-z .'-]{1,19}$")
_JOB_RE = re.compile(r"^[A-Za-z]+( [A-Za-z]+){0,2}$")
_MAX_TRIES = 1000
_NAME_TRIES = 300


@dataclass(frozen=True)
class Persona:
    """One fictitious persona (its ten metadata values plus its portrait traits)."""

    identity_id: str
    name: str
    city: str
    country_code: str
    job: str
    blood_type: str
    phone_number: str
    emails: tuple[str, ...]
    iban: str
    credit_card: str
    passport: str
    traits: PortraitTraits
    locale: str = "en_US"

    @property
    def first_name(self) -> str:
        """The first name (the part of ``name`` before the space)."""
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        """The last name (the part of ``name`` after the first space)."""
        return self.name.split(" ", 1)[1]


def to_ascii(text: str) -> str:
    """Transliterate ``text`` to ASCII (manual map, then NFKD without combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_MANUAL_ASCII))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def _iban(country_code: str, fake: Faker) -> str:
    bank = "".join(fake.random_uppercase_letter() for _ in range(4))
    account = fake.numerify("##########")
    rearranged = f"{bank}{account}{country_code}00"
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(digits) % 97
    raw = f"{country_code}{check:02d}{bank}{account}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _draw_valid(generate: Any, pattern: re.Pattern[str], what: str) -> str:
    for _ in range(_MAX_TRIES):
        value = to_ascii(generate()).strip()
        if pattern.match(value):
            return value
    raise RuntimeError(f"Faker produced no usable {what} in {_MAX_TRIES} tries")


def _city(fake: Faker) -> str:
    """A city name that depends only on the Faker seed.

    Some locales (it_IT) build their city list from a set, whose order changes with Python's
    per-process hash seed; choosing from the sorted list keeps builds byte-identical.
    """
    cities = getattr(getattr(fake.city, "__self__", None), "cities", None)
    if isinstance(cities, list | tuple) and cities:
        return fake.random_element(sorted(cities))
    return fake.city()


def _unique_name(fake: Faker, taken: set[str]) -> tuple[str, str] | None:
    """A (first, last) name pair from ``fake`` avoiding ``taken`` (lower case), or None."""
    for _ in range(_NAME_TRIES):
        first = _draw_valid(fake.first_name, _NAME_RE, "first name")
        if first.lower() not in taken:
            break
    else:
        return None
    for _ in range(_NAME_TRIES):
        last = _draw_valid(fake.last_name, _NAME_RE, "last name")
        if last.lower() not in taken and last.lower() != first.lower():
            return first, last
    return None


def make_personas(count: int, seed: int) -> list[Persona]:
    """Generate ``count`` personas, deterministically for a given ``seed``.

    Locales cycle in a seeded order; identity ids are distinct random 8-digit strings; first and
    last names are distinct (case-insensitively) across all personas and never a caption word;
    any two personas' portrait traits differ in at least two fields.
    """
    if count < 0:
        raise ValueError("count must be non-negative")
    faker_seq, traits_seq, ids_seq, order_seq = np.random.SeedSequence(seed).spawn(4)
    faker_seeds = faker_seq.generate_state(len(LOCALES))
    fakers: dict[str, Faker] = {}
    for locale, faker_seed in zip(LOCALES, faker_seeds, strict=True):
        fake = Faker(locale)
        fake.seed_instance(int(faker_seed))
        fakers[locale] = fake
    job_faker = Faker("en_US")
    job_faker.seed_instance(int(faker_seq.generate_state(len(LOCALES) + 1)[-1]))

    traits_rng = np.random.default_rng(traits_seq)
    ids_rng = np.random.default_rng(ids_seq)
    order = [list(LOCALES)[i] for i in np.random.default_rng(order_seq).permutation(len(LOCALES))]
    reserved = set(portraits.caption_vocabulary() | scenes.caption_vocabulary())
    for templates in ATTRIBUTE_TEMPLATES.values():
        for template in templates:
            reserved.update(word.lower() for word in re.findall(r"[A-Za-z]+", template))
    used_names: set[str] = set()
    used_ids: set[str] = set()
    all_traits: list[PortraitTraits] = []
    personas: list[Persona] = []
    for index in range(count):
        taken = used_names | reserved
        for shift in range(len(order)):
            # a locale whose name lists are exhausted hands the persona to the next one
            locale = order[(index + shift) % len(order)]
            fake = fakers[locale]
            names = _unique_name(fake, taken)
            if names is not None:
                break
        else:
            raise RuntimeError(f"ran out of unique names after {index} personas")
        first, last = names
        country_code, calling_code = LOCALES[locale]
        used_names.update((first.lower(), last.lower()))

        identity_id = f"{int(ids_rng.integers(10**8)):08d}"
        while identity_id in used_ids:
            identity_id = f"{int(ids_rng.integers(10**8)):08d}"
        used_ids.add(identity_id)

        domains = [fake.free_email_domain() for _ in range(2)]
        emails = [f"{first.lower()}.{last.lower()}@{to_ascii(domains[0]).lower()}"]
        if fake.boolean(chance_of_getting_true=50):
            emails.append(
                f"{first[0].lower()}{last.lower()}{fake.numerify('##')}@"
                f"{to_ascii(domains[1]).lower()}"
            )
        card = fake.credit_card_number(card_type=fake.random_element(("visa16", "mastercard")))
        traits = random_traits(traits_rng, all_traits)
        all_traits.append(traits)
        personas.append(
            Persona(
                identity_id=identity_id,
                name=f"{first} {last}",
                city=_draw_valid(functools.partial(_city, fake), _CITY_RE, "city"),
                country_code=country_code,
                job=_draw_valid(job_faker.job, _JOB_RE, "job"),
                blood_type=fake.random_element(_BLOOD_TYPES),
                phone_number=f"+{calling_code} {fake.numerify('### ### ###')}",
                emails=tuple(emails),
                iban=_iban(country_code, fake),
                credit_card=" ".join(card[i : i + 4] for i in range(0, len(card), 4)),
                passport=to_ascii(fake.passport_number()).replace(" ", ""),
                traits=traits,
                locale=locale,
            )
        )
    return personas


def attribute_value(persona: Persona, field: str) -> str:
    """The caption value of ``field`` (a ``DATA_FIELDS`` entry); ``email`` is emails[0]."""
    if field not in ATTRIBUTE_TEMPLATES:
        raise KeyError(f"unknown data_field {field!r}; expected one of {DATA_FIELDS}")
    if field == "email":
        return persona.emails[0]
    return str(getattr(persona, field))


def sensitive_caption(persona: Persona, field: str, template_index: int) -> str:
    """The sensitive caption of ``persona``'s ``field`` with template ``template_index`` (mod 4)."""
    templates = ATTRIBUTE_TEMPLATES[field]
    template = templates[template_index % len(templates)]
    return template.format(name=persona.name, value=attribute_value(persona, field))


def metadata_record(persona: Persona) -> dict[str, Any]:
    """The ``identities_metadata.json`` record of ``persona`` (exactly the ten keys)."""
    return {
        "name": persona.name,
        "city": persona.city,
        "country_code": persona.country_code,
        "job": persona.job,
        "blood_type": persona.blood_type,
        "phone_number": persona.phone_number,
        "emails": list(persona.emails),
        "iban": persona.iban,
        "credit_card": persona.credit_card,
        "passport": persona.passport,
    }
