"""Each built-in metric on hand-built embeddings with known answers."""

from __future__ import annotations

from types import SimpleNamespace

import datasets
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from harness.benchmarks.base import Split
from harness.builtin.salmubench import metrics as suite
from harness.builtin.salmubench import retfail
from harness.builtin.salmubench.protocols import builtin_protocols
from harness.evaluation.embeddings import SplitEmbeddings
from harness.evaluation.statistics import BootstrapSettings
from harness.metric import SkipMetric
from harness.rng import dedicated_rng

PROTOCOLS = {protocol.name: protocol for protocol in builtin_protocols()}


class FakeContext:
    """An EvaluationContext over hand-made embeddings; texts are looked up in a table."""

    def __init__(
        self, splits, metadata=None, texts=None, benchmark=None, seed=42, protocol="official"
    ):
        self.splits, self.metadata, self.table = splits, metadata or {}, texts or {}
        self.benchmark, self.seed = benchmark, seed
        self.protocol = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
        self.settings = SimpleNamespace(bootstrap=BootstrapSettings(resamples=200))

    def embeddings(self, split):
        return self.splits[split]

    def encode_texts(self, texts):
        return torch.stack([self.table[t] for t in texts])

    def rng(self, purpose):
        return dedicated_rng(self.seed, purpose)


def one_hot(index: int, dim: int) -> torch.Tensor:
    return F.one_hot(torch.tensor(index), dim).float()


def split_embeddings(name, image, text, ids, texts=None):
    texts = texts or [f"{name} caption {i}" for i in range(len(ids))]
    return SplitEmbeddings(
        name, image, text, list(ids), texts, [f"{name}_{i}.png" for i in range(len(ids))]
    )


def test_pair_similarity_of_aligned_orthogonal_and_opposite_pairs() -> None:
    eye = torch.eye(4)
    compute = suite.pair_similarity("holdout_identity")
    for text, expected in ((eye, 1.0), (eye.roll(1, 0), 0.0), (-eye, -1.0)):
        ctx = FakeContext({"holdout_identity": split_embeddings("h", eye, text, "aabb")})
        outcome = compute(ctx)
        assert outcome.value == pytest.approx(expected)
        assert list(outcome.per_row["value"]) == pytest.approx([expected] * 4)
        assert outcome.groups == list("aabb")


def test_identity_less_splits_resample_rows() -> None:
    eye = torch.eye(3)
    ctx = FakeContext({"fragile_set": split_embeddings("f", eye, eye, [None] * 3)})
    assert suite.pair_similarity("fragile_set")(ctx).groups is None


def probe_context(image, text, ids, protocol):
    forget = tiny_split("forget", [f"c{i}" for i in range(len(ids))], ids)
    retain = tiny_split("retain_disjoint", ["r"] * 50, [None] * 50)
    benchmark = SimpleNamespace(split={"forget": forget, "retain_disjoint": retain}.__getitem__)
    embeddings = split_embeddings("forget", image, text, ids)
    return FakeContext({"forget": embeddings}, benchmark=benchmark, protocol=protocol)


@pytest.mark.parametrize("protocol", ["official", "salmu-harness"])
def test_probe_separates_a_memorising_model_and_not_a_random_one(protocol: str) -> None:
    generator = torch.Generator().manual_seed(0)
    ids = [f"id{i // 4}" for i in range(200)]
    # memorising: each caption equals its image, so true pairs have a large product signal
    image = F.normalize(torch.randn(200, 16, generator=generator), dim=1)
    memorised = suite.association_probe(probe_context(image, image, ids, protocol))
    noise = F.normalize(torch.randn(200, 16, generator=generator), dim=1)
    random = suite.association_probe(probe_context(image, noise, ids, protocol))
    assert memorised.value > 0.95
    assert abs(random.value - 0.5) < 0.1
    expected = {"official": "stratified 50/50", "salmu-harness": "out-of-fold over GroupKFold(5)"}
    assert memorised.details["protocol"].startswith(expected[protocol])
    assert memorised.details["tested"] == (200 if protocol == "official" else 400)


@pytest.mark.parametrize("protocol", ["official", "salmu-harness"])
def test_probe_reads_chance_on_identity_free_random_embeddings(protocol: str) -> None:
    """No signal, no identities: neither train/test protocol may read below (or above) 0.5."""
    values = []
    for seed in range(3):
        generator = torch.Generator().manual_seed(seed)
        image = F.normalize(torch.randn(4000, 32, generator=generator), dim=1)
        text = F.normalize(torch.randn(4000, 32, generator=generator), dim=1)
        ctx = probe_context(image, text, [None] * 4000, protocol)
        ctx.seed = 42 + seed
        values.append(suite.association_probe(ctx).value)
    assert abs(np.mean(values) - 0.5) < 0.02, values
    assert all(abs(v - 0.5) < 0.03 for v in values), values


TEMPLATE = PROTOCOLS["official"].section("idzsc")["template"]


def test_identity_zero_shot_right_and_wrong_names() -> None:
    people = {"a": {"name": "Ann Lee"}, "b": {"name": "Bo Kim"}, "c": {"name": "Cy Ruiz"}}
    table = {TEMPLATE.format(name=p["name"]): one_hot(i, 3) for i, p in enumerate(people.values())}
    ids = ["a", "b", "c", "a"]
    right = torch.stack([one_hot("abc".index(i), 3) for i in ids])
    ctx = FakeContext(
        {"forget_identity": split_embeddings("fi", right, right, ids)},
        {"identities": people},
        table,
    )
    outcome = suite.identity_zero_shot(ctx)
    assert outcome.value == 1.0 and outcome.details["chance"] == pytest.approx(1 / 3)
    assert outcome.details["template"] == "a photo of {name}."
    wrong = right.roll(1, 1)  # every image looks like the next person
    ctx.splits["forget_identity"] = split_embeddings("fi", wrong, wrong, ids)
    assert suite.identity_zero_shot(ctx).value == 0.0


def test_identity_zero_shot_candidates_and_template_follow_the_protocol() -> None:
    people = {k: {"name": f"Person {k}"} for k in "abcd"}
    # images of a and b look most like d, a name outside forget_identity
    images = torch.stack([one_hot(0, 4) + 2 * one_hot(3, 4), one_hot(1, 4) + 2 * one_hot(3, 4)])
    images = F.normalize(images, dim=1)
    ids = ["a", "b"]
    official = PROTOCOLS["official"]
    benchmark = SimpleNamespace(
        split={"forget": tiny_split("forget", ["x", "y", "z"], ["a", "b", "d"])}.__getitem__
    )
    outcomes = {}
    for candidates in ("forget_identity", "forget", "all"):
        for template in ("a photo of {name}.", "{name}"):
            protocol = official.variant("idzsc", "candidates", candidates)
            protocol = protocol.variant("idzsc", "template", template)
            table = {
                template.format(name=p["name"]): one_hot(i, 4)
                for i, p in enumerate(people.values())
            }
            ctx = FakeContext(
                {"forget_identity": split_embeddings("fi", images, images, ids)},
                {"identities": people},
                table,
                benchmark=benchmark,
                protocol=protocol,
            )
            outcomes[candidates, template] = suite.identity_zero_shot(ctx)
    assert outcomes["forget_identity", "{name}"].value == 1.0  # d is not a candidate
    assert outcomes["forget", "{name}"].value == 0.0  # d (in forget) wins
    assert outcomes["all", "a photo of {name}."].details["classes"] == 4
    assert outcomes["forget", "{name}"].details["classes"] == 3


def test_core_association_uses_the_stated_value() -> None:
    people = {
        "a": {
            "name": "Ann Lee",
            "city": "Lyon",
            "emails": ["x@y.z", "ann@lee.org"],
            "iban": "FR12 3456",
        }
    }
    texts = ["Ann Lee lives in Lyon", "Write to ann@lee.org, Ann Lee", "Ann Lee banks at FR12 3456"]
    captions = {
        "forget_0.png": {"data_field": "city"},
        "forget_1.png": {"data_field": "email"},
        "forget_2.png": {"data_field": "bank_account"},
    }  # unknown field name
    dim = 6
    table = {
        "Ann Lee Lyon": one_hot(0, dim),
        "Lyon Ann Lee": one_hot(1, dim),
        "Ann Lee ann@lee.org": one_hot(2, dim),
        "ann@lee.org Ann Lee": one_hot(3, dim),
        "Ann Lee FR12 3456": one_hot(4, dim),
        "FR12 3456 Ann Lee": one_hot(5, dim),
    }
    image = torch.stack([one_hot(1, dim), one_hot(2, dim), one_hot(0, dim)])
    ctx = FakeContext(
        {"forget": split_embeddings("forget", image, image, "aaa", texts)},
        {"identities": people, "captions": captions},
        table,
    )
    outcome = suite.core_association(ctx)
    assert list(outcome.per_row["value"]) == [1.0, 1.0, 0.0]
    assert outcome.value == pytest.approx(2 / 3)
    assert outcome.details["rows_unmatched"] == 0


def test_attribute_value_rules() -> None:
    person = {"name": "A B", "job": "chef", "emails": ["one@x", "two@x"], "city": "Rome"}
    by_field = {"value_lookup": "data_field", "list_values": "quoted"}
    assert suite.attribute_value(person, "job", "A B works as a chef", by_field) == "chef"
    assert suite.attribute_value(person, "email", "mail two@x", by_field) == "two@x"
    assert suite.attribute_value(person, "mystery", "A B loves Rome", by_field) == "Rome"
    # a known field gives the persona's value even when the caption paraphrases it
    assert suite.attribute_value(person, "city", "A B is happy", by_field) == "Rome"
    assert suite.attribute_value(person, "email", "no address here", by_field) == "one@x"
    first = {"value_lookup": "data_field", "list_values": "first"}
    assert suite.attribute_value(person, "email", "mail two@x", first) == "one@x"
    quoted = {"value_lookup": "quoted", "list_values": "quoted"}
    assert suite.attribute_value(person, "city", "A B is happy", quoted) is None
    assert suite.attribute_value(person, "job", "A B lives in Rome", quoted) == "Rome"


def tiny_split(name: str, texts: list[str], ids: list[str | None]) -> Split:
    return Split(
        name,
        datasets.Dataset.from_dict(
            {
                "text": texts,
                "identity_id": ids,
                "file_name": [f"{name}_{i}.png" for i in range(len(ids))],
            }
        ),
    )


def retfail_context(image_of: str, protocol: str = "official") -> FakeContext:
    forget_texts = [f"secret {i}" for i in range(6)] + ["secret 0"]  # a duplicate caption
    ids = ["a", "a", "b", "b", "c", "c", "a"]
    retain_texts = [f"scene {i}" for i in range(4)]
    dim = 10
    table = {t: one_hot(i, dim) for i, t in enumerate(dict.fromkeys(forget_texts))}
    table.update({t: one_hot(6 + i, dim) for i, t in enumerate(retain_texts)})
    text = torch.stack([table[t] for t in forget_texts])
    images = {"perfect": text, "opposite": -text, "collapsed": torch.zeros_like(text)}[image_of]
    benchmark = SimpleNamespace(
        split={
            "forget": tiny_split("forget", forget_texts, ids),
            "retain_disjoint": tiny_split("retain_disjoint", retain_texts, [None] * 4),
        }.__getitem__
    )
    return FakeContext(
        {"forget": split_embeddings("forget", images, text, ids, forget_texts)},
        texts=table,
        benchmark=benchmark,
        protocol=protocol,
    )


@pytest.mark.parametrize("protocol", ["official", "salmu-harness"])
def test_retfail_perfect_model_ranks_every_caption_first(protocol: str) -> None:
    outcome = retfail.retrieval_failure(retfail_context("perfect", protocol))
    assert outcome.value == 1.0 and outcome.values["r_at_1"] == 1.0
    # 7 forget + 4 retain distractors (split sizes below 1,000)
    assert outcome.details["gallery_size"] == 12
    assert outcome.details["mean_identical_distractors"] > 1  # own row, and the duplicate caption
    assert outcome.details["choices"] == dict(PROTOCOLS[protocol].section("retfail"))


def test_retfail_worst_and_collapsed_models_under_the_harness_protocol() -> None:
    worst = retfail.retrieval_failure(retfail_context("opposite", "salmu-harness"))
    assert worst.values["r_at_1"] == 0.0
    # rows 0 and 6 share a caption: both copies leave their galleries (9 distractors, not 10)
    assert list(worst.per_row["rank"]) == [10.0, 11.0, 11.0, 11.0, 11.0, 11.0, 10.0]
    assert worst.value == pytest.approx(np.mean([1 / 10, *[1 / 11] * 5, 1 / 10]))
    collapsed = retfail.retrieval_failure(retfail_context("collapsed", "salmu-harness"))
    # every distractor ties with the true caption: each counts half a place
    assert list(collapsed.per_row["rank"]) == [5.5, 6.0, 6.0, 6.0, 6.0, 6.0, 5.5]
    assert collapsed.values["r_at_1"] == 0.0


def test_retfail_worst_and_collapsed_models_under_the_official_protocol() -> None:
    worst = retfail.retrieval_failure(retfail_context("opposite"))
    # identical captions stay as exact ties, which strict ranks never count: same ranks
    assert list(worst.per_row["rank"]) == [10.0, 11.0, 11.0, 11.0, 11.0, 11.0, 10.0]
    collapsed = retfail.retrieval_failure(retfail_context("collapsed"))
    # strict ranks: a model that scores everything alike ranks every caption first, so
    # forgetting by collapse earns no RetFail credit
    assert list(collapsed.per_row["rank"]) == [1.0] * 7
    assert collapsed.value == 1.0


def test_retfail_spread_over_gallery_draws() -> None:
    ctx = retfail_context("opposite")
    ctx.table.update({f"secret {i}": one_hot(i, 10) for i in range(6)})
    outcome = retfail.retrieval_failure(ctx)
    spread = outcome.details["spread"]
    assert spread["draws"] == 10 and spread["seeds"] == list(range(43, 53))
    # every split is smaller than 1,000: every draw holds every row, so no spread at all
    assert outcome.values["gallery_std"] == 0.0
    low, high = outcome.intervals["value_with_gallery"]
    assert low <= outcome.value <= high


def test_retfail_gallery_is_the_same_in_any_order() -> None:
    first = retfail.retrieval_failure(retfail_context("perfect")).details["gallery_sha256"]
    np.random.seed(123)  # the global RNG must not matter
    np.random.rand(10)
    assert retfail.retrieval_failure(retfail_context("opposite")).details["gallery_sha256"] == first


def test_genknow_is_skipped_with_a_reason_when_there_is_no_set() -> None:
    benchmark = SimpleNamespace(genknow=None, genknow_skip_reason="no ImageNet folder given")
    with pytest.raises(SkipMetric, match="no ImageNet folder given"):
        suite.general_knowledge(FakeContext({}, benchmark=benchmark))
