"""Personas of SALMU-mini: uniqueness, metadata records and sensitive captions."""

from __future__ import annotations

import itertools
import re

import pytest

from harness.builtin.mini import portraits, scenes
from harness.builtin.mini.personas import (
    ATTRIBUTE_TEMPLATES,
    DATA_FIELDS,
    METADATA_KEYS,
    attribute_value,
    make_personas,
    metadata_record,
    sensitive_caption,
)
from harness.builtin.mini.portraits import trait_differences

TEN_KEYS = {
    "name",
    "city",
    "country_code",
    "job",
    "blood_type",
    "phone_number",
    "emails",
    "iban",
    "credit_card",
    "passport",
}


@pytest.fixture(scope="module")
def personas():
    return make_personas(60, seed=7)


def test_same_seed_same_personas_other_seed_other_personas(personas):
    assert make_personas(60, seed=7) == personas
    other = make_personas(60, seed=8)
    assert [p.name for p in other] != [p.name for p in personas]


def test_prefix_stable_when_count_grows(personas):
    assert make_personas(10, seed=7) == personas[:10]


def test_identity_ids_are_unique_eight_digit_strings(personas):
    ids = [p.identity_id for p in personas]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"\d{8}", i) for i in ids)


def test_first_and_last_names_unique_ascii_and_not_caption_words(personas):
    firsts = [p.first_name.lower() for p in personas]
    lasts = [p.last_name.lower() for p in personas]
    assert len(set(firsts)) == len(personas)
    assert len(set(lasts)) == len(personas)
    assert not set(firsts) & set(lasts)
    vocabulary = portraits.caption_vocabulary() | scenes.caption_vocabulary()
    assert not (set(firsts) | set(lasts)) & vocabulary
    for persona in personas:
        assert persona.name == f"{persona.first_name} {persona.last_name}"
        assert persona.name.isascii()


def test_several_locales_and_country_codes(personas):
    assert len({p.locale for p in personas}) == 9
    assert len({p.country_code for p in personas}) == 9


def test_traits_differ_in_at_least_two_fields(personas):
    for a, b in itertools.combinations(personas, 2):
        assert trait_differences(a.traits, b.traits) >= 2


def test_metadata_record_has_exactly_the_ten_keys(personas):
    assert set(METADATA_KEYS) == TEN_KEYS
    for persona in personas:
        record = metadata_record(persona)
        assert set(record) == TEN_KEYS
        assert record["name"] == persona.name
        assert isinstance(record["emails"], list)
        assert 1 <= len(record["emails"]) <= 2
        assert all(isinstance(value, str) for key, value in record.items() if key != "emails")


def test_emails_contain_the_name(personas):
    for persona in personas:
        first, last = persona.first_name.lower(), persona.last_name.lower()
        assert first in persona.emails[0] and last in persona.emails[0]
        assert all(last in email and "@" in email for email in persona.emails)


def test_values_are_well_formed(personas):
    for persona in personas:
        assert persona.blood_type in {"A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"}
        assert re.fullmatch(r"\+\d{1,2} \d{3} \d{3} \d{3}", persona.phone_number)
        assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", persona.credit_card)
        iban = persona.iban.replace(" ", "")
        assert iban[:2] == persona.country_code and len(iban) == 18
        rearranged = iban[4:] + iban[:4]
        assert int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1
        assert persona.passport and " " not in persona.passport
        assert persona.city.isascii() and persona.job.isascii()


def test_templates_four_per_field_with_placeholders():
    assert tuple(ATTRIBUTE_TEMPLATES) == DATA_FIELDS
    for templates in ATTRIBUTE_TEMPLATES.values():
        assert len(templates) == 4 and len(set(templates)) == 4
        assert all("{name}" in t and "{value}" in t for t in templates)


def test_sensitive_caption_holds_name_and_value(personas):
    persona = personas[0]
    assert attribute_value(persona, "email") == persona.emails[0]
    assert attribute_value(persona, "iban") == persona.iban
    for field in DATA_FIELDS:
        captions = {sensitive_caption(persona, field, k) for k in range(4)}
        assert len(captions) == 4
        assert sensitive_caption(persona, field, 5) == sensitive_caption(persona, field, 1)
        for caption in captions:
            assert persona.name in caption
            assert attribute_value(persona, field) in caption
    assert sensitive_caption(persona, "city", 0) == f"{persona.name} lives in {persona.city}"
    with pytest.raises(KeyError):
        attribute_value(persona, "emails")


def test_personas_do_not_depend_on_the_process_hash_seed() -> None:
    """Faker's it_IT cities come from a set; a build must not change with PYTHONHASHSEED."""
    import os
    import subprocess
    import sys

    code = (
        "from harness.builtin.mini.personas import make_personas;"
        "print([p.city for p in make_personas(40, 3)])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
