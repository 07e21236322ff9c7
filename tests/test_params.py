"""Tests for losscli.engine.params: ``-p KEY=VALUE`` and ``--input NAME=PATH`` against a loss spec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from losscli.engine.params import check_reduction, parse_inputs, parse_params, parse_value, split_assignment
from losscli.errors import UnknownParamError, UsageError
from losscli.registry import get_loss, list_losses

# --- JSON values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1),
        ("-2", -2),
        ("0.5", 0.5),
        ("1e-3", 0.001),
        ("true", True),
        ("false", False),
        ("null", None),
        ("[1,2,0.5]", [1, 2, 0.5]),
        ("[1, 2, 0.5]", [1, 2, 0.5]),
        ('"cosine"', "cosine"),
        ("cosine", "cosine"),
        ("True", "True"),  # JSON is case-sensitive: a bare string
        ("[1,2", "[1,2"),  # not JSON: kept as the string
        ("", ""),
    ],
)
def test_parse_value(text, value):
    parsed = parse_value(text)
    assert parsed == value
    assert type(parsed) is type(value)


@pytest.mark.parametrize(
    ("item", "pair"),
    [
        ("margin=0.5", ("margin", "0.5")),
        (" margin = 0.5 ", ("margin", "0.5")),
        ("distance=a=b", ("distance", "a=b")),
        ("margin=", ("margin", "")),
    ],
)
def test_split_assignment(item, pair):
    assert split_assignment(item, "-p") == pair


@pytest.mark.parametrize("item", ["margin", "=0.5", " =1", ""])
def test_split_assignment_needs_name_and_equals(item):
    with pytest.raises(UsageError) as caught:
        split_assignment(item, "-p")
    assert "NAME=VALUE" in str(caught.value)


# --- coercion against the spec -------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "items", "expected"),
    [
        ("margin_ranking", ["margin=0.5"], {"margin": 0.5}),
        ("margin_ranking", ["margin=1"], {"margin": 1.0}),
        ("cross_entropy", ["ignore_index=9"], {"ignore_index": 9}),
        ("cross_entropy", ["ignore_index=-1.0"], {"ignore_index": -1}),
        ("cross_entropy", ["weight=[1,2,0.5]"], {"weight": [1.0, 2.0, 0.5]}),
        ("cross_entropy", ["weight=null"], {"weight": None}),
        ("bce_with_logits", ["pos_weight=3"], {"pos_weight": [3.0]}),
        ("poisson_nll", ["log_input=false", "full=true"], {"log_input": False, "full": True}),
        ("multi_margin", ["p=2"], {"p": 2}),
        ("multi_margin", ["p=1.0"], {"p": 1}),
        ("triplet_margin_with_distance", ["distance=cosine"], {"distance": "cosine"}),
        ("triplet_margin_with_distance", ['distance="pairwise"'], {"distance": "pairwise"}),
        ("triplet_margin_with_distance", ["distance_function=cosine"], {"distance": "cosine"}),
        ("ctc", ["blank=3", "zero_infinity=true"], {"blank": 3, "zero_infinity": True}),
        ("cross_entropy", ["label_smoothing=0.1", "label_smoothing=0.2"], {"label_smoothing": 0.2}),
        ("mse", [], {}),
    ],
)
def test_parse_params(loss, items, expected):
    parsed = parse_params(get_loss(loss), items)
    assert parsed == expected
    for name, value in expected.items():
        assert type(parsed[name]) is type(value)


@pytest.mark.parametrize(
    ("loss", "item", "fragment"),
    [
        ("margin_ranking", "margin=abc", "expected a number"),
        ("margin_ranking", "margin=true", "expected a number"),
        ("margin_ranking", "margin=[1]", "expected a number"),
        ("cross_entropy", "ignore_index=1.5", "expected an integer"),
        ("cross_entropy", "ignore_index=true", "expected an integer"),
        ("cross_entropy", "ignore_index=x", "expected an integer"),
        ("poisson_nll", "full=1", "expected true or false"),
        ("poisson_nll", "full=yes", "expected true or false"),
        ("cross_entropy", 'weight=[1,"a"]', "list of numbers"),
        ("cross_entropy", "weight=[]", "list of numbers"),
        ("cross_entropy", "weight=[[1,2]]", "list of numbers"),
        ("cross_entropy", "weight=[true,1]", "list of numbers"),
        ("cross_entropy", "weight=abc", "list of numbers"),
        ("multi_margin", "p=3", "one of 1, 2"),
        ("triplet_margin_with_distance", "distance=manhattan", "one of pairwise, cosine"),
        ("triplet_margin_with_distance", "distance=1", "one of pairwise, cosine"),
    ],
)
def test_coercion_errors(loss, item, fragment):
    with pytest.raises(UnknownParamError) as caught:
        parse_params(get_loss(loss), [item])
    message = str(caught.value)
    assert message.startswith(f"{get_loss(loss).name}: -p {item.split('=')[0]}=")
    assert fragment in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_refused(text):
    with pytest.raises(UnknownParamError):
        parse_params(get_loss("margin_ranking"), [f"margin={text}"])


EVERY_PARAM = [
    pytest.param(spec, param, id=f"{spec.name}-{param.name}") for spec in list_losses() for param in spec.params
]


@pytest.mark.parametrize(("spec", "param"), EVERY_PARAM)
@pytest.mark.parametrize("text", ["1e400", "-1e400", "[1,1e400]", "[-1e999]"])
def test_numbers_beyond_float64_are_refused_for_every_parameter(spec, param, text):
    """JSON reads 1e400 as an infinite float: no parameter of any kind takes it (exit 2, naming it)."""
    assert not math.isfinite(max(map(abs, np.atleast_1d(json.loads(text)))))  # the premise
    with pytest.raises(UnknownParamError) as caught:
        parse_params(spec, [f"{param.name}={text}"])
    message = str(caught.value)
    assert message.startswith(f"{spec.name}: -p {param.name}={text}: ")
    assert "finite" in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("spec", "param"), [p for p in EVERY_PARAM if p.values[1].kind in ("int", "float", "tensor")])
def test_large_finite_numbers_are_not_mistaken_for_infinite(spec, param):
    """1e308 is finite: it passes the check for infinity (a bound or the int64 range may still refuse it)."""
    try:
        parse_params(spec, [f"{param.name}=1e308"])
    except UnknownParamError as error:
        assert "finite" not in str(error)


@pytest.mark.parametrize("text", ["99999999999999999999", "1e300", "-9223372036854775809"])
def test_integer_parameters_beyond_int64_are_refused(text):
    """torch keeps ignore_index in an int64: a larger integer is a usage error quoted as typed, not an overflow."""
    with pytest.raises(UnknownParamError) as caught:
        parse_params(get_loss("cross_entropy"), [f"ignore_index={text}"])
    assert str(caught.value).startswith(f"cross_entropy: -p ignore_index={text}: expected an integer from ")
    assert parse_params(get_loss("cross_entropy"), [f"ignore_index={2**63 - 1}"]) == {"ignore_index": 2**63 - 1}


@pytest.mark.parametrize(
    ("loss", "item"),
    [("cross_entropy", "ignore_index=1e400"), ("cross_entropy", "weight=[1,1e400]"), ("huber", "delta=-1e400")],
)
def test_infinite_parameter_through_the_cli(expect_error, write_file, loss, item):
    pred = write_file("p.csv", [[0.1, 0.9], [0.8, 0.2]])
    labels = write_file("y.csv", [1, 0] if loss == "cross_entropy" else [[0.0, 1.0], [1.0, 0.0]])
    expect_error(["compute", loss, pred, labels, "-p", item], 2, f"-p {item}:", "finite")


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(UnknownParamError) as caught:
        parse_params(get_loss("cross_entropy"), ["beta=1"])
    message = str(caught.value)
    assert "'beta'" in message
    for name in ("weight", "ignore_index", "label_smoothing"):
        assert name in message


def test_unknown_parameter_of_a_loss_without_parameters():
    with pytest.raises(UnknownParamError) as caught:
        parse_params(get_loss("mse"), ["margin=1"])
    assert "valid parameters: none" in str(caught.value)


def test_reduction_is_not_a_parameter():
    with pytest.raises(UnknownParamError) as caught:
        parse_params(get_loss("mse"), ["reduction=sum"])
    assert "--reduction" in str(caught.value)


def test_parameter_without_equals():
    with pytest.raises(UsageError):
        parse_params(get_loss("margin_ranking"), ["margin"])


# --- --input NAME=PATH ---------------------------------------------------------------------------


def test_parse_inputs():
    spec = get_loss("ctc")
    assert parse_inputs(spec, ["input_lengths=il.csv", "target_lengths = tl.csv"]) == {
        "input_lengths": "il.csv",
        "target_lengths": "tl.csv",
    }
    assert parse_inputs(get_loss("margin_ranking"), ["input2=b=c.csv"]) == {"input2": "b=c.csv"}
    assert parse_inputs(get_loss("mse"), []) == {}


def test_parse_inputs_unknown_name_lists_the_valid_ones():
    with pytest.raises(UsageError) as caught:
        parse_inputs(get_loss("triplet_margin"), ["anchor2=a.csv"])
    message = str(caught.value)
    assert "'anchor2'" in message and "positive" in message and "negative" in message


def test_parse_inputs_positional_roles_are_not_inputs():
    with pytest.raises(UsageError) as caught:
        parse_inputs(get_loss("mse"), ["target=y.csv"])
    assert "positional" in str(caught.value)


def test_parse_inputs_twice():
    with pytest.raises(UsageError) as caught:
        parse_inputs(get_loss("gaussian_nll"), ["var=a.csv", "var=b.csv"])
    assert "twice" in str(caught.value)


# --- --reduction ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "given", "chosen"),
    [
        ("mse", None, "mean"),
        ("l2", None, "sum"),
        ("l2", "mean", "mean"),
        ("mse", "none", "none"),
        ("kl_div", "batchmean", "batchmean"),
        ("kl_div", None, "mean"),
    ],
)
def test_check_reduction(loss, given, chosen):
    assert check_reduction(get_loss(loss), given) == chosen


def test_batchmean_only_for_kl_div():
    with pytest.raises(UsageError) as caught:
        check_reduction(get_loss("mse"), "batchmean")
    assert "mean, sum, none" in str(caught.value)
