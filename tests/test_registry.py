"""Tests for the loss registry: lookup by every name, documentation, and agreement with torch.nn."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from losscli.cli import app
from losscli.engine.curves import KINDS
from losscli.engine.validate import SHAPE_RULES
from losscli.errors import UnknownLossError
from losscli.registry import FAMILIES, LossSpec, Param, Registry, Role, get_loss, list_losses, normalize

SPECS = list_losses()
IDS = [spec.name for spec in SPECS]

# SPEC §3: "Every name the loss accepts in torch is accepted".
SPEC_NAMES = [
    "l1",
    "mse",
    "l2",
    "cross_entropy",
    "nll",
    "nll2d",
    "kl_div",
    "bce",
    "bce_with_logits",
    "margin_ranking",
    "hinge_embedding",
    "multilabel_margin",
    "soft_margin",
    "multilabel_soft_margin",
    "cosine_embedding",
    "multi_margin",
    "smooth_l1",
    "huber",
    "poisson_nll",
    "gaussian_nll",
    "triplet_margin",
    "triplet_margin_with_distance",
    "ctc",
]
TORCH_FAMILIES = {"regression", "classification", "multilabel", "ranking", "embedding", "distribution", "sequence"}
# Torch's constructors default to reduction="mean"; SPEC §3 makes l2 the sum of squared errors.
DEFAULT_REDUCTION = {"l2": "sum"}
# Parameter defaults that losscli names where torch passes None.
NAMED_DEFAULTS = {("distance_function", None): "pairwise"}
DEPRECATED = {"self", "size_average", "reduce"}


def test_spec_names_are_registered():
    assert len(SPEC_NAMES) == 23
    assert set(SPEC_NAMES) <= {spec.name for spec in SPECS}


# --- lookup -------------------------------------------------------------------------------------


def spellings(name: str) -> list[str]:
    return [name, name.upper(), name.lower(), name.replace("_", "-"), name.replace("_", "-").upper(), f" {name} "]


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_reachable_by_name_and_every_alias(spec):
    for name in (spec.name, *spec.aliases):
        for spelling in spellings(name):
            assert get_loss(spelling) is spec, spelling


# Where NAME_loss is the peer's name of another loss (optax's l2_loss is ½ (x - y)², its sparsemax_loss the
# binary sparsemax), that loss owns it.
SUFFIX_OWNERS = {"l2": "l2_loss", "sparsemax": "binary_sparsemax"}


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_reachable_with_a_loss_suffix(spec):
    owner = get_loss(SUFFIX_OWNERS.get(spec.name, spec.name))
    assert get_loss(f"{spec.name}_loss") is owner
    assert get_loss(f"{spec.name.replace('_', '-')}-Loss") is owner


def test_moved_aliases_name_the_peers_losses():
    assert get_loss("l2_loss").source == "optax optax.losses.l2_loss"
    assert get_loss("L2Loss").name == "l2_loss"
    assert get_loss("sparsemax_loss").name == "binary_sparsemax"
    assert get_loss("multiclass_sparsemax_loss").name == "sparsemax"


@pytest.mark.parametrize("spec", [s for s in SPECS if s.torch_name], ids=[s.name for s in SPECS if s.torch_name])
def test_reachable_by_torch_class_name(spec):
    found = get_loss(spec.torch_name)
    assert found.torch_name == spec.torch_name
    if spec.torch_name in spec.aliases:
        assert found is spec
    # the class name without its "Loss" suffix too (MSELoss -> MSE)
    assert get_loss(spec.torch_name.removesuffix("Loss")).torch_name == spec.torch_name


def test_torch_class_names_shared_by_several_specs_are_an_alias_of_exactly_one():
    counts = Counter(spec.torch_name for spec in SPECS if spec.torch_name)
    for torch_name, count in counts.items():
        owners = [spec.name for spec in SPECS if torch_name in spec.aliases]
        assert len(owners) == 1, (torch_name, count, owners)


def test_no_alias_collides():
    owners: dict[str, str] = {}
    for spec in SPECS:
        for name in {normalize(n) for n in (spec.name, *spec.aliases)}:
            assert name not in owners, f"{name!r} names both {owners[name]} and {spec.name}"
            owners[name] = spec.name


def test_canonical_names_are_snake_case():
    for spec in SPECS:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", spec.name), spec.name


@pytest.mark.parametrize(
    ("typed", "suggested"), [("msee", "mse"), ("cross_entropyy", "cross_entropy"), ("hubr", "huber")]
)
def test_unknown_loss_suggests_close_names(typed, suggested):
    with pytest.raises(UnknownLossError) as caught:
        get_loss(typed)
    message = str(caught.value)
    assert repr(typed) in message
    assert suggested in message
    assert caught.value.exit_code == 2


def test_unknown_loss_without_close_names_points_to_list():
    with pytest.raises(UnknownLossError) as caught:
        get_loss("zzzzzzzz")
    assert "losscli list" in str(caught.value)


def test_list_filters():
    assert "margin_ranking" in [s.name for s in list_losses(family="ranking")]
    assert all(s.family == "ranking" for s in list_losses(family="ranking"))
    assert {s.name for s in list_losses(family="sequence")} == {"ctc"}
    assert {s.name for s in list_losses(pattern="*margin*")} >= {"margin_ranking", "multi_margin", "soft_margin"}
    assert [s.name for s in list_losses(pattern="MSELOSS")] == ["mse"]
    assert list_losses(family="regression", pattern="bce*") == []


# --- a fresh registry ---------------------------------------------------------------------------


def _spec(name: str, aliases: tuple[str, ...] = (), family: str = "regression") -> LossSpec:
    return LossSpec(
        name=name,
        torch_name=None,
        family=family,
        impl="x:y",
        roles=(Role("input", "pred", "(N,)", doc="d"), Role("target", "target", "(N,)", doc="d")),
        params=(),
        formula="f",
        use_when="u",
        avoid_when="a",
        article_section="1",
        shape_rule="same",
        aliases=aliases,
    )


def test_registry_refuses_colliding_aliases():
    registry = Registry()
    registry.register(_spec("one", aliases=("First-Loss",)))
    with pytest.raises(ValueError, match="first"):
        registry.register(_spec("two", aliases=("first_loss",)))
    with pytest.raises(ValueError, match="twice"):
        registry.register(_spec("one"))
    with pytest.raises(ValueError, match="family"):
        registry.register(_spec("three", family="astrology"))
    assert registry.get("FIRST LOSS").name == "one"


# --- documentation ------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_spec_is_documented(spec):
    for field in ("formula", "use_when", "avoid_when", "article_section"):
        assert getattr(spec, field).strip(), field
    assert re.fullmatch(r"\d+(\.\d+)*|not in the article", spec.article_section), spec.article_section
    for role in spec.roles:
        assert role.doc.strip(), role.name
        assert role.shape.strip(), role.name
    for param in spec.params:
        assert param.doc.strip(), param.name


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_structure(spec):
    assert spec.family in FAMILIES
    if spec.torch_name:
        assert spec.family in TORCH_FAMILIES
    assert spec.default_reduction in spec.reductions
    assert set(spec.reductions) <= {"mean", "sum", "none", "batchmean"}
    assert ("batchmean" in spec.reductions) == (spec.name == "kl_div")
    assert spec.pred_role.differentiable
    assert sum(role.kind == "target" for role in spec.roles) <= 1
    names = [role.name for role in spec.roles]
    assert len(names) == len(set(names))
    assert len({p.name for p in spec.params}) == len(spec.params)
    assert spec.shape_rule in SHAPE_RULES
    assert spec.curve in KINDS


def _kind_fits(param: Param) -> bool:
    value = param.default
    if value is None:  # a tensor left unset, or a bool that the data decides (brier's scale_by_half: 'auto')
        return param.kind in ("tensor", "bool")
    return {
        "bool": lambda: isinstance(value, bool),
        "int": lambda: isinstance(value, int) and not isinstance(value, bool),
        "float": lambda: isinstance(value, float),
        "str": lambda: isinstance(value, str),
        "distance": lambda: value in param.choices,
    }[param.kind]()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_param_defaults_fit_their_kind(spec):
    for param in spec.params:
        assert _kind_fits(param), (param.name, param.kind, param.default)
        if param.choices and param.default is not None:
            assert str(param.default) in param.choices


# --- agreement with torch.nn --------------------------------------------------------------------


def _constructor(cls: type) -> dict[str, object]:
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items() if name not in DEPRECATED}


def _torch_classes(spec: LossSpec) -> list[type]:
    import torch

    classes = [getattr(torch.nn, spec.torch_name)]
    module, _, attr = spec.impl.partition(":")
    impl = getattr(importlib.import_module(module), attr)
    if module == "torch.nn" and isinstance(impl, type) and impl not in classes:
        classes.append(impl)
    return classes


TORCH_SPECS = [s for s in SPECS if s.torch_name]


@pytest.mark.parametrize("spec", TORCH_SPECS, ids=[s.name for s in TORCH_SPECS])
def test_params_match_the_torch_constructor(spec):
    ours = {param.keyword: param.default for param in spec.params}
    for cls in _torch_classes(spec):
        theirs = _constructor(cls)
        assert set(theirs) == {*ours, "reduction"}, cls.__name__
        assert theirs["reduction"] == "mean"
        assert spec.default_reduction == DEFAULT_REDUCTION.get(spec.name, theirs["reduction"])
        for keyword, default in ours.items():
            expected = NAMED_DEFAULTS.get((keyword, theirs[keyword]), theirs[keyword])
            assert default == expected, (cls.__name__, keyword)
            assert type(default) is type(expected), (cls.__name__, keyword)


def test_implementations_resolve():
    for spec in SPECS:
        module, _, attr = spec.impl.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), spec.name


# --- `losscli list` -----------------------------------------------------------------------------


def test_list_json(invoke):
    result = invoke(["list", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = json.loads(result.stdout)
    assert set(out) == {"losses"}
    rows = out["losses"]
    for row in rows:
        assert {"name", "aliases", "torch_name", "family", "inputs"} <= set(row)
        assert row["family"] in FAMILIES
        assert isinstance(row["aliases"], list) and isinstance(row["inputs"], list)
    by_name = {row["name"]: row for row in rows}
    assert set(SPEC_NAMES) <= set(by_name)
    assert by_name["mse"]["torch_name"] == "MSELoss"
    assert "MSELoss" in by_name["mse"]["aliases"]
    assert "ce" in by_name["cross_entropy"]["aliases"]
    assert by_name["margin_ranking"]["inputs"] == ["input1", "input2", "target"]
    assert by_name["ctc"]["inputs"][:2] == ["log_probs", "targets"]


def test_list_table_and_csv(runner, invoke):
    table = runner.invoke(app, ["list"], env={"COLUMNS": "300"})
    assert table.exit_code == 0, table.stderr
    assert f"{len(SPECS)} losses" in table.stdout
    for spec in SPECS:
        assert spec.name in table.stdout
        assert (spec.torch_name or "—") in table.stdout
    csv_result = invoke(["list", "-f", "csv"])
    assert csv_result.exit_code == 0
    lines = csv_result.stdout.splitlines()
    assert lines[0] == "name,aliases,torch_name,family,inputs"
    assert len(lines) == len(SPECS) + 1


def test_reading_the_registry_imports_no_torch_pandas_or_scipy():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from losscli.cli import app\n"
        "from losscli.registry import get_loss, list_losses\n"
        "specs = list_losses()\n"
        "assert all(get_loss(a) for s in specs for a in (s.name, *s.aliases))\n"
        "for args in (['list'], ['list', '-f', 'json'], ['info', 'mse'], ['--help'], ['compute', '--help']):\n"
        "    result = CliRunner().invoke(app, args)\n"
        "    assert result.exit_code == 0, (args, result.output)\n"
        "print(','.join(m for m in ('torch', 'pandas', 'scipy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
