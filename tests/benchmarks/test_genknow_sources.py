"""GenKnow from the forms users keep ImageNet val in: each written here in its exact layout,
read back, hashed alike, and evaluated to the same accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
from click.testing import CliRunner
from PIL import Image

from harness.benchmarks.genknow import read_genknow
from harness.benchmarks.genknow.hub_form import parse_hub_source
from harness.cli import main
from harness.errors import BenchmarkError
from harness.results.loading import comparability
from harness.run.checkpoints import evaluate_checkpoint
from harness.run.settings import RunOptions

#: class names that sort in label order, so an ImageFolder's labels equal the others'
CLASSES = ("blue circle", "green square", "red triangle")
PER_CLASS = 3


@pytest.fixture(scope="module")
def images(mini_root: Path) -> list[tuple[bytes, int]]:
    """PNG bytes and label of 9 SALMU-mini GenKnow images of three classes."""
    mini = read_genknow(mini_root / "genknow")
    raw = mini.dataset.cast_column("image", datasets.Image(decode=False))
    wanted = {mini.classnames.index(name): label for label, name in enumerate(CLASSES)}
    chosen: list[tuple[bytes, int]] = []
    for row in raw:
        label = wanted.get(row["label"])
        if label is not None and sum(1 for _, c in chosen if c == label) < PER_CLASS:
            chosen.append((row["image"]["bytes"], label))
    assert len(chosen) == len(CLASSES) * PER_CLASS
    return chosen


def features() -> datasets.Features:
    return datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=CLASSES)}
    )


def as_dataset(images: list[tuple[bytes, int]]) -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {
            "image": [{"bytes": data, "path": f"{i}.png"} for i, (data, _) in enumerate(images)],
            "label": [label for _, label in images],
        },
        features=features(),
    )


def write_image_folder(root: Path, images: list[tuple[bytes, int]]) -> Path:
    for index, (data, label) in enumerate(images):
        folder = root / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"ILSVRC2012_val_{index:08d}.png").write_bytes(data)
    return root


def write_parquet(root: Path, images: list[tuple[bytes, int]]) -> Path:
    """The hub snapshot layout: data/validation-*.parquet (a train shard beside it is ignored)."""
    (root / "data").mkdir(parents=True)
    as_dataset(images).to_parquet(str(root / "data" / "validation-00000-of-00001.parquet"))
    as_dataset(images[:2]).to_parquet(str(root / "data" / "train-00000-of-00001.parquet"))
    return root


def write_webdataset(root: Path, images: list[tuple[bytes, int]], shards: int = 2) -> Path:
    """CLIP_benchmark's wds_imagenet1k layout, written with webdataset's own TarWriter."""
    import webdataset as wds

    (root / "test").mkdir(parents=True)
    (root / "classnames.txt").write_text("\n".join(CLASSES) + "\n")
    (root / "zeroshot_classification_templates.txt").write_text("a photo of a {c}.\n")
    (root / "test" / "nshards.txt").write_text(f"{shards}\n")
    per_shard = -(-len(images) // shards)
    for shard in range(shards):
        with wds.TarWriter(str(root / "test" / f"{shard}.tar")) as sink:
            for index in range(shard * per_shard, min(len(images), (shard + 1) * per_shard)):
                data, label = images[index]
                sink.write({"__key__": f"s{index:07d}", "png": data, "cls": str(label).encode()})
    return root


@pytest.fixture(scope="module")
def sources(images, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("genknow")
    saved = root / "saved"
    as_dataset(images).save_to_disk(str(saved))
    # the ImageFolder holds the images in another order (by class): the identity ignores order
    return {
        "imagefolder": write_image_folder(root / "imagefolder", images),
        "parquet": write_parquet(root / "parquet", images),
        "webdataset": write_webdataset(root / "wds", images),
        "save-to-disk": saved,
    }


def test_every_form_reads_the_same_set(sources: dict[str, Path]) -> None:
    read = {form: read_genknow(path) for form, path in sources.items()}
    for form, genknow in read.items():
        assert genknow.source == form
        assert genknow.classnames == CLASSES and genknow.templates == ("a photo of a {}.",)
        assert len(genknow.dataset) == len(CLASSES) * PER_CLASS
    assert len({g.sha256 for g in read.values()}) == 1
    assert len({g.prompts_sha256 for g in read.values()}) == 1
    # row order differs (the ImageFolder groups by class), and so does what caches key on
    assert read["imagefolder"].rows_sha256 != read["parquet"].rows_sha256
    assert read["parquet"].rows_sha256 == read["webdataset"].rows_sha256


def test_three_forms_give_the_same_accuracy(mini_root: Path, sources, tmp_path: Path) -> None:
    documents = {}
    for form in ("imagefolder", "parquet", "webdataset"):
        options = RunOptions(
            output_dir=tmp_path / form,
            show_progress=False,
            num_workers=0,
            metrics=["2.1"],
            benchmark="salmubench",
            benchmark_options={
                "dataset": str(mini_root / "dataset"),
                "compromised": str(mini_root / "models" / "compromised"),
                "clean": str(mini_root / "models" / "clean"),
                "imagenet": str(sources[form]),
            },
        )
        documents[form] = evaluate_checkpoint(
            mini_root / "models" / "compromised", options
        ).document
    values = {form: d["metrics"]["2.1"]["value"] for form, d in documents.items()}
    assert len(set(values.values())) == 1, values
    assert 0 < values["parquet"] <= 1  # three classes of the mini's own shapes: not all wrong
    genknow = {form: d["benchmark"]["genknow"] for form, d in documents.items()}
    assert {g["source"] for g in genknow.values()} == {"imagefolder", "parquet", "webdataset"}
    assert len({g["sha256"] for g in genknow.values()}) == 1
    # the same images in two forms are comparable; a different set is not
    assert comparability(documents["imagefolder"]) == comparability(documents["webdataset"])
    other = json.loads(json.dumps(documents["parquet"]))
    other["benchmark"]["genknow"]["sha256"] = "0" * 64
    assert comparability(other)["genknow"] != comparability(documents["parquet"])["genknow"]


def test_older_results_without_hashes_stay_comparable_on_rows() -> None:
    from harness.results.loading import UNKNOWN, compatible, genknow_basis

    old = genknow_basis({"name": "val", "rows": 12})
    new = genknow_basis(
        {"name": "x", "rows": 12, "classes": 3, "sha256": "a", "prompts_sha256": "b"}
    )
    assert old == {"rows": 12, "classes": UNKNOWN, "sha256": UNKNOWN, "prompts_sha256": UNKNOWN}
    assert compatible(old, new) and not compatible(genknow_basis({"name": "v", "rows": 5}), new)


def test_genknow_check_says_what_it_found(sources) -> None:
    result = CliRunner().invoke(main, ["genknow", "check", str(sources["webdataset"])])
    assert result.exit_code == 0, result.output
    assert "webdataset" in result.output and "9" in result.output
    assert read_genknow(sources["webdataset"]).sha256 in result.output
    as_json = CliRunner().invoke(main, ["genknow", "check", str(sources["parquet"]), "--json"])
    found = json.loads(as_json.output)
    assert found["rows"] == 9 and found["classes"] == 3 and found["source"] == "parquet"


def test_a_webdataset_missing_a_shard_is_refused(images, tmp_path: Path) -> None:
    root = write_webdataset(tmp_path / "wds", images, shards=3)
    (root / "test" / "2.tar").unlink()
    with pytest.raises(BenchmarkError, match=r"should hold 3 shards .* 2\.tar is missing"):
        read_genknow(root)


def test_a_webdataset_label_outside_the_classes_is_refused(images, tmp_path: Path) -> None:
    root = write_webdataset(tmp_path / "wds", images)
    (root / "classnames.txt").write_text("blue circle\ngreen square\n")
    with pytest.raises(BenchmarkError, match="label 2, outside the 2 classes"):
        read_genknow(root)


def test_unknown_folders_and_bare_hub_ids_get_a_hint(tmp_path: Path) -> None:
    (tmp_path / "loose").mkdir()
    Image.new("RGB", (2, 2)).save(tmp_path / "loose" / "a.png")
    with pytest.raises(BenchmarkError, match="none of the known forms") as info:
        read_genknow(tmp_path / "loose")
    assert "imagefolder" in (info.value.hint or "")
    with pytest.raises(BenchmarkError) as bare:
        read_genknow("ILSVRC/imagenet-1k")
    assert bare.value.hint == "for a dataset on the hub write hf:ILSVRC/imagenet-1k"


def test_hub_sources_parse() -> None:
    assert str(parse_hub_source("hf:ILSVRC/imagenet-1k")) == "hf:ILSVRC/imagenet-1k@main:validation"
    source = parse_hub_source("hf:timm/imagenet-1k-wds@abc123:test")
    assert (source.id, source.revision, source.split) == ("timm/imagenet-1k-wds", "abc123", "test")
    with pytest.raises(BenchmarkError, match="not a hub dataset source"):
        parse_hub_source("hf:no-slash")


def test_a_hub_dataset_is_loaded_by_id_revision_and_split(images, monkeypatch) -> None:
    calls = []

    def load_dataset(path, revision=None, split=None):
        calls.append((path, revision, split))
        return as_dataset(images)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    genknow = read_genknow("hf:someone/imagenet-copy@v1")
    assert calls == [("someone/imagenet-copy", "v1", "validation")]
    assert genknow.source == "hub" and genknow.location == "hf:someone/imagenet-copy@v1:validation"
    assert genknow.sha256 == read_genknow_from(images).sha256


def read_genknow_from(images):
    from harness.benchmarks.genknow.forms import labelled_set

    return labelled_set(as_dataset(images), "x", "test", "memory")


@pytest.mark.parametrize(
    ("error", "expected", "hint"),
    [
        (
            datasets.exceptions.DatasetNotFoundError(
                "Dataset 'ILSVRC/imagenet-1k' is a gated dataset on the Hub. Visit the dataset "
                "page at https://huggingface.co/datasets/ILSVRC/imagenet-1k to ask for access."
            ),
            "is gated and this machine has no access",
            "accept its terms",
        ),
        (
            datasets.exceptions.DatasetNotFoundError("Dataset 'x/y' doesn't exist on the Hub"),
            "was not found on the hub",
            "set HF_TOKEN",
        ),
        (
            ConnectionError(
                "Couldn't reach 'ILSVRC/imagenet-1k' on the Hub (LocalEntryNotFoundError)"
            ),
            "not in the local datasets cache and the hub cannot be reached",
            "hf download ILSVRC/imagenet-1k --repo-type dataset",
        ),
    ],
)
def test_hub_errors_say_what_to_do(monkeypatch, error, expected, hint) -> None:
    def load_dataset(*args, **kwargs):
        raise error

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(BenchmarkError, match=expected) as info:
        read_genknow("hf:ILSVRC/imagenet-1k")
    assert hint in (info.value.hint or "")


def test_offline_hub_source_fails_with_one_message(tmp_path: Path, monkeypatch) -> None:
    """For real: datasets in offline mode with an empty cache (no network is touched)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    result = CliRunner().invoke(main, ["genknow", "check", "hf:ILSVRC/imagenet-1k"])
    assert result.exit_code == 2
    assert "cannot be reached" in result.output and "Traceback" not in result.output


def test_an_imagenet_sized_webdataset_reads_despite_repeated_class_names(
    images, tmp_path: Path
) -> None:
    """open_clip's ImageNet names repeat "crane" and "maillot"; a ClassLabel would refuse them."""
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES

    root = write_webdataset(tmp_path / "wds", images)
    (root / "classnames.txt").write_text("\n".join(IMAGENET_CLASSNAMES) + "\n")
    genknow = read_genknow(root)
    assert genknow.classnames == tuple(IMAGENET_CLASSNAMES) and len(genknow.templates) == 80
    assert sorted(set(genknow.dataset["label"])) == [0, 1, 2]


def test_an_imagenet_root_with_split_folders_points_at_its_val_folder(tmp_path: Path) -> None:
    for split in ("train", "val"):
        (tmp_path / split / "n01440764").mkdir(parents=True)
        Image.new("RGB", (2, 2)).save(tmp_path / split / "n01440764" / "a.png")
    with pytest.raises(BenchmarkError, match="holds split folders") as info:
        read_genknow(tmp_path)
    assert info.value.hint == f"point at the validation split itself, e.g. {tmp_path / 'val'}"
