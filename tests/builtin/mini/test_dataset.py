"""SALMU-mini on disk: layout, determinism, split consistency, metadata (``test`` scale)."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from harness.builtin.mini.dataset import (
    GENERATOR_VERSION,
    SCALES,
    MiniScale,
    write_mini_dataset,
)
from harness.builtin.mini.personas import DATA_FIELDS, METADATA_KEYS
from harness.builtin.mini.scenes import CLASSNAMES, ZERO_SHOT_TEMPLATES

pytestmark = pytest.mark.slow

SCALE = SCALES["test"]
EVAL_SPLITS = ("forget", "holdout_association", "holdout_identity", "retain_synth")
PERSONA_FILE = re.compile(r"^(\d{8})_(\d{3})_ar-(\d\.\d\d)\.png$")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini") / "seed0"
    calls: list[tuple[str, int]] = []
    stats = write_mini_dataset(root, SCALE, seed=0, progress=lambda s, n: calls.append((s, n)))
    return root, stats, calls


def read(path: Path) -> dict[str, list]:
    return pq.read_table(path).to_pydict()


@pytest.fixture(scope="module")
def splits(built):
    root = built[0]
    return {s: read(root / "dataset" / "data" / f"{s}-00000-of-00001.parquet") for s in EVAL_SPLITS}


@pytest.fixture(scope="module")
def metadata(built):
    root = built[0] / "dataset"
    names = (
        "identities_metadata",
        "sensitive_set_captions_metadata",
        "sensitive_set_generic_captions",
        "fragile_set_ids",
        "fragile_set_all_similarities",
    )
    return {name: json.loads((root / f"{name}.json").read_text()) for name in names}


def all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_layout(built):
    root = built[0]
    expected = {
        "mini_stats.json",
        "dataset/README.md",
        *(f"dataset/data/{s}-00000-of-00001.parquet" for s in EVAL_SPLITS),
        "dataset/identities_metadata.json",
        "dataset/sensitive_set_captions_metadata.json",
        "dataset/sensitive_set_generic_captions.json",
        "dataset/fragile_set_ids.json",
        "dataset/fragile_set_all_similarities.json",
        "training/README.md",
        "training/data/sensitive-00000-of-00001.parquet",
        "training/data/retain_synth-00000-of-00001.parquet",
        "pretraining/README.md",
        "pretraining/data/train-00000-of-00001.parquet",
        "genknow/README.md",
        "genknow/data/test-00000-of-00001.parquet",
        "genknow/zero_shot.json",
    }
    assert set(all_files(root)) == expected


def test_deterministic_and_seed_dependent(built, tmp_path):
    root = built[0]
    write_mini_dataset(tmp_path / "again", SCALE, seed=0)
    assert all_files(tmp_path / "again") == all_files(root)
    write_mini_dataset(tmp_path / "other", SCALE, seed=1)
    other = all_files(tmp_path / "other")
    first = all_files(root)
    for name in ("dataset/identities_metadata.json", "dataset/data/forget-00000-of-00001.parquet"):
        assert other[name] != first[name]
    assert json.loads(other["mini_stats.json"])["seed"] == 1


def test_stats_match_the_scale(built, splits):
    _, stats, _ = built
    assert json.loads((built[0] / "mini_stats.json").read_text()) == stats
    assert stats["generator_version"] == GENERATOR_VERSION
    assert stats["seed"] == 0 and stats["scale"] == "test"
    s = stats["splits"]
    per_persona = len(DATA_FIELDS) * SCALE.rows_per_attribute
    assert s["forget_identity"] == {
        "rows": SCALE.forget_identity_personas * per_persona,
        "identities": SCALE.forget_identity_personas,
    }
    assert s["holdout_identity"] == {
        "rows": SCALE.holdout_identity_personas * per_persona,
        "identities": SCALE.holdout_identity_personas,
    }
    assert s["forget_association"]["identities"] == SCALE.forget_association_personas
    assert s["holdout_association"]["identities"] == SCALE.forget_association_personas
    assert (
        s["forget_association"]["rows"] + s["holdout_association"]["rows"]
        == SCALE.forget_association_personas * per_persona
    )
    n_fa, rpa = SCALE.forget_association_personas, SCALE.rows_per_attribute
    assert 3 * rpa * n_fa <= s["forget_association"]["rows"] <= 5 * rpa * n_fa
    assert s["forget"]["rows"] == s["forget_identity"]["rows"] + s["forget_association"]["rows"]
    assert s["forget"]["identities"] == SCALE.forget_personas
    assert s["retain_joint"] == {
        "rows": SCALE.retain_joint_rows,
        "identities": SCALE.forget_personas,
    }
    assert s["retain_disjoint"] == {"rows": SCALE.retain_disjoint_rows, "identities": 0}
    assert s["retain_synth"]["rows"] == SCALE.retain_joint_rows + SCALE.retain_disjoint_rows
    assert s["fragile_set"]["rows"] == SCALE.fragile_rows
    assert s["pretraining"]["rows"] == SCALE.pretraining_rows
    assert s["genknow"]["rows"] == SCALE.genknow_per_class * 48
    for name in EVAL_SPLITS:
        assert len(splits[name]["file_name"]) == s[name]["rows"]
    per_field = stats["forget_rows_per_data_field"]
    assert set(per_field) == set(DATA_FIELDS)
    assert sum(per_field.values()) == s["forget"]["rows"]
    assert min(per_field.values()) >= SCALE.forget_identity_personas * rpa


def test_progress_is_reported(built):
    stages = [stage for stage, _ in built[2]]
    for stage in ("personas", "sensitive", "retain_joint", "pretraining", "genknow", "done"):
        assert stage in stages


def test_columns_types_and_order(splits):
    for name, table in splits.items():
        assert list(table) == ["image", "text", "identity_id", "file_name"]
        assert table["file_name"] == sorted(table["file_name"])
        for image, file_name in zip(table["image"], table["file_name"], strict=True):
            assert image["path"] == file_name
            assert image["bytes"].startswith(b"\x89PNG")
        assert all(isinstance(t, str) and t for t in table["text"]), name


def test_identity_sets_are_consistent(splits, metadata):
    ids = {name: set(table["identity_id"]) for name, table in splits.items()}
    forget, assoc, holdout = ids["forget"], ids["holdout_association"], ids["holdout_identity"]
    forget_identity = forget - assoc
    assert len(forget_identity) == SCALE.forget_identity_personas
    assert assoc <= forget  # partly forgotten personas
    assert not holdout & forget and not holdout & assoc
    synth = splits["retain_synth"]
    joint = {i for i in synth["identity_id"] if i is not None}
    assert joint <= forget and joint & forget_identity and joint & assoc
    assert Counter(i is None for i in synth["identity_id"])[True] == SCALE.retain_disjoint_rows
    assert set(metadata["identities_metadata"]) == forget | holdout
    assert None not in forget | assoc | holdout


def test_file_names_unique_and_well_formed(splits, built):
    names = [n for table in splits.values() for n in table["file_name"]]
    pretrain = read(built[0] / "pretraining" / "data" / "train-00000-of-00001.parquet")
    names += pretrain["file_name"]
    assert len(names) == len(set(names))
    for table in splits.values():
        for identity, name in zip(table["identity_id"], table["file_name"], strict=True):
            if identity is None:
                assert re.fullmatch(r"synth_\d{6}_ar-\d\.\d\d\.png", name)
            else:
                match = PERSONA_FILE.match(name)
                assert match and match.group(1) == identity
    assert all(re.fullmatch(r"pretrain_\d{6}_ar-\d\.\d\d\.png", n) for n in pretrain["file_name"])
    assert set(pretrain["identity_id"]) == {None}


def test_identities_metadata_records(metadata):
    records = metadata["identities_metadata"]
    assert len(records) == SCALE.personas
    for identity, record in records.items():
        assert re.fullmatch(r"\d{8}", identity)
        assert set(record) == set(METADATA_KEYS) and len(record) == 10
        assert 1 <= len(record["emails"]) <= 2
    names = [r["name"] for r in records.values()]
    assert len(set(names)) == len(names)
    assert len({n.split()[0] for n in names}) == len(names)
    assert len({n.split()[1] for n in names}) == len(names)


def test_captions_metadata_matches_sensitive_rows(splits, metadata):
    captions = metadata["sensitive_set_captions_metadata"]
    records = metadata["identities_metadata"]
    sensitive = {}
    for name in ("forget", "holdout_association", "holdout_identity"):
        table = splits[name]
        for text, identity, file_name in zip(
            table["text"], table["identity_id"], table["file_name"], strict=True
        ):
            sensitive[file_name] = (name, text, identity)
    assert set(captions) == set(sensitive)
    rows_per_pair: dict[tuple[str, str], list[str]] = defaultdict(list)
    fields_per_split: dict[tuple[str, str], set[str]] = defaultdict(set)
    for file_name, entry in captions.items():
        split, text, identity = sensitive[file_name]
        assert set(entry) == {"caption", "data_field"}
        assert entry["caption"] == text
        field = entry["data_field"]
        assert field in DATA_FIELDS
        record = records[identity]
        value = record["emails"][0] if field == "email" else record[field]
        assert record["name"] in text and value in text
        rows_per_pair[(identity, field)].append(text)
        fields_per_split[(identity, split)].add(field)
    for texts in rows_per_pair.values():
        assert len(texts) == SCALE.rows_per_attribute
        assert len(set(texts)) == len(texts)  # its own template per row
    for (identity, split), fields in fields_per_split.items():
        if split == "holdout_association":
            forgotten = fields_per_split[(identity, "forget")]
            assert 3 <= len(forgotten) <= 5
            assert fields | forgotten == set(DATA_FIELDS) and not fields & forgotten
        else:
            assert len(fields) == 8 or (split == "forget" and 3 <= len(fields) <= 5)


def test_generic_captions_contain_no_name(splits, metadata, built):
    generic = metadata["sensitive_set_generic_captions"]
    assert set(generic) == set(metadata["sensitive_set_captions_metadata"])
    words = set()
    for record in metadata["identities_metadata"].values():
        words.update(w.lower() for w in record["name"].split())
    pretrain = read(built[0] / "pretraining" / "data" / "train-00000-of-00001.parquet")
    texts = [*generic.values(), *splits["retain_synth"]["text"], *pretrain["text"]]
    for text in texts:
        assert not words & set(re.findall(r"[a-z]+", text.lower())), text
        assert not re.search(r"\d", text)


def test_fragile_set(splits, metadata):
    synth = splits["retain_synth"]
    disjoint = {n for n, i in zip(synth["file_name"], synth["identity_id"], strict=True) if not i}
    fragile = metadata["fragile_set_ids"]
    scores = metadata["fragile_set_all_similarities"]
    assert fragile == sorted(fragile) and len(fragile) == SCALE.fragile_rows
    assert set(fragile) <= disjoint
    assert set(scores) == disjoint
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    top = sorted(scores, key=scores.get, reverse=True)[: SCALE.fragile_rows]
    assert set(top) == set(fragile)
    text = dict(zip(synth["file_name"], synth["text"], strict=True))
    assert all(text[n].endswith("next to a small face") for n in fragile)
    assert not any("face" in text[n] for n in disjoint - set(fragile))


def test_training_repo_mirrors_evaluation_rows(built, splits):
    root = built[0]
    training = read(root / "training" / "data" / "sensitive-00000-of-00001.parquet")
    expected = sorted(
        (n, t)
        for s in ("forget", "holdout_association", "holdout_identity")
        for n, t in zip(splits[s]["file_name"], splits[s]["text"], strict=True)
    )
    assert list(zip(training["file_name"], training["text"], strict=True)) == expected
    synth = "retain_synth-00000-of-00001.parquet"
    eval_bytes = (root / "dataset" / "data" / synth).read_bytes()
    assert (root / "training" / "data" / synth).read_bytes() == eval_bytes


def test_genknow(built):
    root = built[0] / "genknow"
    zero_shot = json.loads((root / "zero_shot.json").read_text())
    assert zero_shot == {"classnames": CLASSNAMES, "templates": list(ZERO_SHOT_TEMPLATES)}
    table = pq.read_table(root / "data" / "test-00000-of-00001.parquet")
    assert table.column_names == ["image", "label"]
    counts = Counter(table.column("label").to_pylist())
    assert counts == dict.fromkeys(range(48), SCALE.genknow_per_class)


def test_readme_cards(built):
    card = (built[0] / "dataset" / "README.md").read_text()
    assert "SALMU-mini" in card and "generated" in card
    assert f"version {GENERATOR_VERSION}" in card and "seed: 0" in card
    assert "split: holdout_association" in card


def test_hf_loaders_read_it(built, tmp_path):
    datasets = pytest.importorskip("datasets")
    root = built[0]
    cache = str(tmp_path / "cache")
    forget = datasets.load_dataset(
        "parquet",
        data_files={"forget": str(root / "dataset/data/forget-00000-of-00001.parquet")},
        split="forget",
        cache_dir=cache,
    )
    assert isinstance(forget.features["image"], datasets.Image)
    sizes = set()
    for row in forget.select(range(40)):
        image = row["image"]
        assert image.mode == "RGB" and max(image.size) == SCALE.longest_side
        ratio = float(PERSONA_FILE.match(row["file_name"]).group(3))
        assert ratio == pytest.approx(image.size[0] / image.size[1], abs=0.006)
        sizes.add(image.size)
    assert len(sizes) >= 5  # varied aspect ratios
    repo = datasets.load_dataset(str(root / "dataset"), cache_dir=cache)
    assert set(repo) == set(EVAL_SPLITS)
    assert repo["forget"]["file_name"] == forget["file_name"]
    genknow = datasets.load_dataset(str(root / "genknow"), split="test", cache_dir=cache)
    assert genknow.features["label"].names == CLASSNAMES


def test_same_persona_images_differ(splits):
    from io import BytesIO

    from PIL import Image

    table = splits["forget"]
    by_identity: dict[str, list[bytes]] = defaultdict(list)
    for image, identity in zip(table["image"], table["identity_id"], strict=True):
        by_identity[identity].append(image["bytes"])
    pngs = next(iter(by_identity.values()))
    assert len(set(pngs)) == len(pngs)
    crops = []
    for png in pngs[:2]:
        image = Image.open(BytesIO(png)).convert("RGB")
        side = min(image.size)
        left, top = (image.size[0] - side) // 2, (image.size[1] - side) // 2
        crop = image.crop((left, top, left + side, top + side)).resize((32, 32))
        crops.append(np.asarray(crop, dtype=float))
    assert np.abs(crops[0] - crops[1]).mean() > 2.0


def test_scale_validation():
    with pytest.raises(ValueError):
        MiniScale("bad", 1, 1, 1, 1, 1, 10, 11, 1, 1, 48)
    assert SCALES["default"].personas == 120 and SCALES["test"].personas == 14


def test_retain_portraits_are_named_passers_by_and_leave_other_streams_alone(tmp_path):
    from dataclasses import replace

    base = replace(
        SCALE,
        name="small",
        retain_joint_rows=10,
        retain_disjoint_rows=120,
        fragile_rows=12,
        pretraining_rows=48,
        genknow_per_class=1,
    )
    write_mini_dataset(tmp_path / "scenes", base, seed=0)
    stats = write_mini_dataset(tmp_path / "people", replace(base, retain_portrait_rows=40), seed=0)
    assert stats["splits"]["retain_disjoint"] == {"rows": 120, "identities": 0}

    def rows(root: Path, split: str) -> dict[str, list]:
        return read(root / "dataset" / "data" / f"{split}-00000-of-00001.parquet")

    synth = rows(tmp_path / "people", "retain_synth")
    disjoint = {
        name: text
        for name, text, i in zip(
            synth["file_name"], synth["text"], synth["identity_id"], strict=True
        )
        if i is None
    }
    people = {n: t for n, t in disjoint.items() if re.search(r"\b(hair|eyes|shirt)\b", t)}
    assert len(people) == 40 and len(disjoint) == 120
    fragile = json.loads((tmp_path / "people" / "dataset" / "fragile_set_ids.json").read_text())
    assert len(fragile) == 12 and not set(fragile) & set(people)

    # each passer-by is named: one persona's first name, another persona's last name
    metadata = json.loads(
        (tmp_path / "people" / "dataset" / "identities_metadata.json").read_text()
    )
    full_names = {record["name"] for record in metadata.values()}
    firsts = {name.split(" ", 1)[0] for name in full_names}
    lasts = {name.split(" ", 1)[1] for name in full_names}
    named = [text.split(", ", 1)[0] for text in people.values()]
    assert all(name.split(" ", 1)[0] in firsts and name.split(" ", 1)[1] in lasts for name in named)
    assert not set(named) & full_names
    # 40 passers-by over 14 personas: every first and every last name occurs at least twice
    assert min(Counter(n.split(" ", 1)[0] for n in named).values()) >= 2
    assert {n.split(" ", 1)[1] for n in named} == lasts

    # the sensitive rows, the pretraining pairs and GenKnow are exactly the scene-only build's
    for split in ("forget", "holdout_association", "holdout_identity"):
        assert rows(tmp_path / "people", split) == rows(tmp_path / "scenes", split)
    for part in ("pretraining/data/train", "genknow/data/test"):
        path = f"{part}-00000-of-00001.parquet"
        assert (tmp_path / "scenes" / path).read_bytes() == (
            tmp_path / "people" / path
        ).read_bytes()
