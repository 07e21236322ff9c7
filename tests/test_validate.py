"""Tests for losscli.engine.validate: the checks that run on numpy inputs before torch sees them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from losscli.engine.validate import Input, check_finite, shape_text, to_index, validate
from losscli.errors import DataError, UsageError
from losscli.registry import get_loss

LOGITS = np.array([[0.1, 0.2, 0.3], [1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]])


def make_inputs(loss: str, columns: dict[str, list[str]] | None = None, **arrays: Any) -> dict[str, Input]:
    """Inputs for ``loss`` from arrays keyed by role name; each comes from ``<role>.csv``."""
    spec = get_loss(loss)
    roles = {role.name: role for role in spec.roles}
    columns = columns or {}
    return {
        name: Input(roles[name], np.asarray(array), f"{name}.csv", columns.get(name)) for name, array in arrays.items()
    }


def run(loss: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Input]:
    inputs = make_inputs(loss, **kwargs)
    validate(get_loss(loss), inputs, params or {})
    return inputs


def data_error(loss: str, params: dict[str, Any] | None = None, **kwargs: Any) -> str:
    with pytest.raises(DataError) as caught:
        run(loss, params, **kwargs)
    return str(caught.value)


def usage_error(loss: str, params: dict[str, Any] | None = None, **kwargs: Any) -> str:
    with pytest.raises(UsageError) as caught:
        run(loss, params, **kwargs)
    return str(caught.value)


# --- naming an element -------------------------------------------------------------------------


def test_where_names_row_and_column():
    role = get_loss("mse").roles[0]
    table = Input(role, np.zeros((3, 2)), "t.csv", ["a", "b"])
    assert table.where((2, 1)) == "row 3, column 'b'"
    assert table.where((0,)) == "row 1"
    single = Input(role, np.zeros(3), "s.csv", ["y"])
    assert single.where((1,)) == "row 2, column 'y'"
    array = Input(role, np.zeros((2, 3, 4)), "a.npy")
    assert array.where((1, 2, 3)) == "index (1, 2, 3)"


@pytest.mark.parametrize(("shape", "text"), [((4,), "(4,)"), ((2, 3), "(2, 3)"), ((), "()"), ((1, 2, 3), "(1, 2, 3)")])
def test_shape_text(shape, text):
    assert shape_text(shape) == text


# --- finite values and integral labels ---------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "shown"), [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")], ids=["nan", "inf", "-inf"]
)
def test_check_finite_names_the_cell(bad, shown):
    role = get_loss("mse").roles[1]
    array = np.array([[1.0, 2.0], [3.0, bad]])
    with pytest.raises(DataError) as caught:
        check_finite(Input(role, array, "y.csv", ["a", "b"]))
    message = str(caught.value)
    assert message.startswith("y.csv: row 2, column 'b': ")
    assert shown in message
    assert "target" in message


def test_check_finite_passes_integers_and_finite_floats():
    role = get_loss("mse").roles[0]
    check_finite(Input(role, np.array([1, 2, 3]), "p.csv"))
    check_finite(Input(role, np.array([1.0, -2.5, 1e300]), "p.csv"))


def test_to_index_accepts_integral_values():
    role = get_loss("nll").roles[1]
    for array in (np.array([0, 2, 1]), np.array([0.0, 2.0, 1.0]), np.array([True, False])):
        out = to_index(Input(role, array, "c.csv"))
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out, array.astype(np.int64))


def test_to_index_refuses_fractions():
    role = get_loss("nll").roles[1]
    with pytest.raises(DataError) as caught:
        to_index(Input(role, np.array([0.0, 1.5, 1.0]), "c.csv", ["label"]))
    message = str(caught.value)
    assert "c.csv: row 2, column 'label'" in message
    assert "whole number" in message


@pytest.mark.parametrize(
    ("array", "shown"),
    [
        (np.array([1, 2**64 - 1, 3], np.uint64), "18446744073709551615"),
        (np.array([1.0, 1e20, 3.0]), "1e+20"),
        (np.array([1.0, -(2.0**63) * 2, 3.0], np.float32), "-1.8446744e+19"),
    ],
)
def test_to_index_refuses_values_beyond_int64_never_wrapping_them(array, shown):
    """astype(np.int64) wraps 2**64 - 1 to -1 and makes 1e20 -2**63: the error quotes the stored value."""
    role = get_loss("nll").roles[1]
    with pytest.raises(DataError) as caught:
        to_index(Input(role, array, "c.npy"))
    assert str(caught.value).startswith(f"c.npy: row 2: {shown} in target is too large for an integer index")
    assert "9223372036854775807" in str(caught.value)


def test_to_index_keeps_the_largest_int64s_exact():
    role = get_loss("nll").roles[1]
    array = np.array([0, 2**63 - 1], np.uint64)
    np.testing.assert_array_equal(to_index(Input(role, array, "c.npy")), [0, 2**63 - 1])
    stored = np.array([0.0, 2.0**60], np.float32)  # a float file holds this whole number exactly
    np.testing.assert_array_equal(to_index(Input(role, stored, "c.npy")), [0, 2**60])


@pytest.mark.parametrize(
    ("cell", "dtype", "fragment"),
    [
        ("99999999999999999999", np.float32, "99999999999999999999 in target is too large for an integer index"),
        ("99999999999999999999", np.float64, "99999999999999999999 in target is too large for an integer index"),
        ("1e20", np.float64, "1e20 in target is too large"),
        ("16777219", np.float32, "16777219 in target is 2**24 or more, where float32"),
        ("16777219", np.float32, "compute in float64 with --dtype float64"),
        ("9007199254740993", np.float64, "9007199254740993 in target is 2**53 or more"),
        ("9223372036854775807", np.float64, "9223372036854775807 in target is 2**53 or more"),
    ],
)
def test_to_index_quotes_text_as_written(tmp_path, cell, dtype, fragment):
    """A text cell is parsed in the run's float type: past its whole numbers the error quotes the file's text."""
    path = tmp_path / "y.csv"
    path.write_text(f"# labels\nid,label\na,1\n\nb,{cell}\n")
    role = get_loss("nll").roles[1]
    with pytest.raises(DataError) as caught:
        to_index(Input(role, np.array([1, float(cell)], dtype), str(path), ["label"]))
    assert str(caught.value).startswith(f"{path}: row 2 (line 5), column 'label': ")
    assert fragment in str(caught.value)


def test_a_header_option_stays_with_the_files_it_was_given_for(tmp_path, invoke_json):
    """A command's --no-header is not how a later, unrelated file is found again for a message (under
    pytest-xdist one worker runs a --no-header command, then this file's checks: module state leaked it)."""
    other = tmp_path / "other.csv"
    other.write_text("1\n2\n")
    invoke_json(["compute", "mse", str(other), str(other), "--no-header"])
    path = tmp_path / "y.csv"
    path.write_text("# labels\nid,label\na,1\n\nb,1.5\n")
    with pytest.raises(DataError) as caught:
        to_index(Input(get_loss("nll").roles[1], np.array([1, 1.5]), str(path), ["label"]))
    assert str(caught.value).startswith(f"{path}: row 2 (line 5), column 'label': 1.5 is not a whole number")


# --- shape rules ------------------------------------------------------------------------------


def test_same_shape_passes_and_mismatch_fails():
    run("mse", input=np.zeros((4, 2)), target=np.ones((4, 2)))
    message = data_error("mse", input=np.zeros((4, 3)), target=np.ones(4))
    assert "input.csv" in message and "(4, 3)" in message
    assert "target.csv" in message and "(4,)" in message
    assert "--pred-col" in message  # one column per label, or pick one


def test_same_shape_refuses_broadcastable_shapes():
    assert "broadcast" in data_error("l1", input=np.zeros((4, 1)), target=np.ones((4, 3)))


def test_class_targets_become_int64():
    inputs = run("cross_entropy", input=LOGITS, target=np.array([0.0, 2.0, 1.0]))
    assert inputs["target"].array.dtype == np.int64


def test_class_index_out_of_range():
    message = data_error("cross_entropy", input=LOGITS, target=np.array([0, 3, 1]))
    assert message.startswith("target.csv: row 2: class index 3 is outside [0, 3)")
    assert "input.csv" in message
    assert "use labels 0..2" in message


def test_class_index_negative():
    assert "class index -2" in data_error("nll", input=LOGITS, target=np.array([0, -2, 1]))


def test_labels_numbered_from_one_get_a_hint():
    assert "subtract 1" in data_error("nll", input=LOGITS, target=np.array([1, 3, 2]))


@pytest.mark.parametrize(("params", "ignored"), [({}, -100), ({"ignore_index": 7}, 7), ({"ignore_index": -1}, -1)])
def test_ignore_index_is_allowed(params, ignored):
    run("cross_entropy", params, input=LOGITS, target=np.array([0, ignored, 1]))
    run("nll", params, input=LOGITS, target=np.array([ignored, ignored, 2]))


def test_only_the_configured_ignore_index_is_allowed():
    assert "class index -100" in data_error("nll", {"ignore_index": 7}, input=LOGITS, target=np.array([0, -100, 1]))


def test_losses_without_ignore_index_refuse_minus_100():
    assert "class index -100" in data_error("multi_margin", input=LOGITS, target=np.array([0, -100, 1]))


def test_one_hot_rows_for_index_targets():
    message = data_error("nll", input=LOGITS, target=np.eye(3, dtype=np.int64))
    assert "one-hot" in message
    assert "argmax" in message


@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_cross_entropy_takes_rows_shaped_like_the_input_as_probabilities(dtype):
    inputs = run("cross_entropy", input=LOGITS, target=np.eye(3, dtype=dtype))
    assert inputs["target"].array.dtype.kind == "f"


def test_class_rule_needs_two_dimensional_scores():
    message = data_error("cross_entropy", input=np.array([0.1, 0.2]), target=np.array([0, 1]))
    assert "(N, C)" in message


def test_class_targets_of_the_wrong_length():
    message = data_error("cross_entropy", input=LOGITS, target=np.array([0, 1]))
    assert "(3,)" in message and "(2,)" in message


def test_nll2d_needs_four_dimensions():
    run("nll2d", input=np.zeros((2, 3, 2, 2)), target=np.zeros((2, 2, 2), dtype=np.int64))
    assert "4-D" in data_error("nll2d", input=LOGITS, target=np.array([0, 1, 2]))
    assert "4-D" in data_error("nll2d", input=np.zeros((2, 3, 2)), target=np.zeros((2, 2), dtype=np.int64))


def test_pair_rule():
    x = np.ones((3, 2))
    y = np.array([1, -1, 1])
    run("cosine_embedding", input1=x, input2=x, target=y)
    assert "same shape" in data_error("cosine_embedding", input1=x, input2=np.ones((3, 3)), target=y)
    assert "(N,)" in data_error("cosine_embedding", input1=x, input2=x, target=np.array([1, -1]))


@pytest.mark.parametrize("var_shape", [(4, 2), (4,), (4, 1)])
def test_gaussian_var_shapes_accepted(var_shape):
    run("gaussian_nll", input=np.zeros((4, 2)), target=np.zeros((4, 2)), var=np.ones(var_shape))


def test_gaussian_var_shape_refused():
    message = data_error("gaussian_nll", input=np.zeros((4, 2)), target=np.zeros((4, 2)), var=np.ones((4, 3)))
    assert "var.csv" in message and "(4, 3)" in message


# --- CTC -----------------------------------------------------------------------------------------

LOG_PROBS = np.log(np.full((5, 2, 4), 0.25))


def test_ctc_fills_default_lengths():
    inputs = run("ctc", log_probs=LOG_PROBS, targets=np.array([[1, 2], [3, 3]]))
    np.testing.assert_array_equal(inputs["input_lengths"].array, [5, 5])
    np.testing.assert_array_equal(inputs["target_lengths"].array, [2, 2])
    assert inputs["targets"].array.dtype == np.int64


def test_ctc_concatenated_targets_need_target_lengths():
    assert "target_lengths" in usage_error("ctc", log_probs=LOG_PROBS, targets=np.array([1, 2, 3]))


def test_ctc_concatenated_targets_must_match_their_lengths():
    message = data_error("ctc", log_probs=LOG_PROBS, targets=np.array([1, 2, 3]), target_lengths=np.array([2, 2]))
    assert "sum to 4" in message and "3 labels" in message


def test_ctc_concatenated_targets():
    run("ctc", log_probs=LOG_PROBS, targets=np.array([1, 2, 3]), target_lengths=np.array([1, 2]))


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        ({"input_lengths": np.array([5, 6])}, ["input_lengths.csv", "input length 6", "5 time steps"]),
        ({"target_lengths": np.array([3, 1])}, ["target_lengths.csv", "target length 3"]),
        ({"input_lengths": np.array([-1, 5])}, ["input_lengths.csv", "negative"]),
        ({"input_lengths": np.array([5, 5, 5])}, ["input_lengths", "(2,)"]),
        ({"input_lengths": np.array([5, 2])}, ["input_lengths.csv", "row 2", "zero_infinity"]),
    ],
    ids=["input-beyond-T", "target-beyond-S", "negative", "wrong-count", "too-short"],
)
def test_ctc_length_errors(extra, fragments):
    message = data_error("ctc", log_probs=LOG_PROBS, targets=np.array([[1, 2], [3, 3]]), **extra)
    for fragment in fragments:
        assert fragment in message


def test_ctc_zero_infinity_allows_short_inputs():
    run("ctc", {"zero_infinity": True}, log_probs=LOG_PROBS, targets=np.array([[1, 2], [3, 3]]), input_lengths=[5, 2])


def test_ctc_labels_equal_to_blank():
    message = data_error("ctc", log_probs=LOG_PROBS, targets=np.array([[1, 0], [3, 3]]))
    assert "targets.csv: row 1, column 1" in message
    assert "blank (0)" in message


def test_ctc_custom_blank():
    run("ctc", {"blank": 3}, log_probs=LOG_PROBS, targets=np.array([[1, 0], [2, 2]]))
    assert "blank (3)" in data_error("ctc", {"blank": 3}, log_probs=LOG_PROBS, targets=np.array([[1, 2], [3, 3]]))


def test_ctc_blank_outside_the_classes():
    assert "blank=4" in usage_error("ctc", {"blank": 4}, log_probs=LOG_PROBS, targets=np.array([[1, 2], [3, 3]]))


def test_ctc_labels_only_count_up_to_their_length():
    # padding after target_lengths is never read, so a 0 there is no blank
    run("ctc", log_probs=LOG_PROBS, targets=np.array([[1, 0], [3, 3]]), target_lengths=np.array([1, 2]))


def test_ctc_needs_three_dimensions():
    assert "(T, N, C)" in data_error("ctc", log_probs=np.zeros((5, 4)), targets=np.array([[1, 2]]))


# --- value domains --------------------------------------------------------------------------------


def test_prob_domain_for_predictions_and_targets():
    assert "bce_with_logits" in data_error("bce", input=np.array([0.5, 1.2]), target=np.array([0.0, 1.0]))
    assert "scale the labels" in data_error("bce", input=np.array([0.5, 0.2]), target=np.array([0.0, -1.0]))
    run("bce", input=np.array([0.0, 1.0]), target=np.array([0.0, 1.0]))


@pytest.mark.parametrize("loss", ["hinge_embedding", "soft_margin"])
def test_sign_domain(loss):
    run(loss, input=np.array([0.5, 2.0]), target=np.array([1, -1]))
    assert "map 0 to -1" in data_error(loss, input=np.array([0.5, 2.0]), target=np.array([1, 0]))
    assert "use 1 and -1 only" in data_error(loss, input=np.array([0.5, 2.0]), target=np.array([1, 2]))


def test_nonneg_domain():
    message = data_error("poisson_nll", input=np.array([0.5, 2.0]), target=np.array([1.0, -3.0]))
    assert "target.csv" in message and "-3" in message and "negative" in message


def test_multilabel_index_domain():
    inputs = run("multilabel_margin", input=LOGITS, target=np.array([[0.0, 2.0, -1.0], [1, -1, -1], [2, 0, -1]]))
    assert inputs["target"].array.dtype == np.int64
    message = data_error("multilabel_margin", input=LOGITS, target=np.array([[0, 2, -1], [1, -2, -1], [2, 0, -1]]))
    assert "row 2, column 1" in message and "padding -1" in message


# --- class weight vectors -------------------------------------------------------------------------


def test_class_weight_length():
    run("cross_entropy", {"weight": [1.0, 2.0, 3.0]}, input=LOGITS, target=np.array([0, 1, 2]))
    with pytest.raises(UsageError) as caught:
        run("cross_entropy", {"weight": [1.0]}, input=LOGITS, target=np.array([0, 1, 2]))
    assert "3 classes" in str(caught.value)


def test_pos_weight_per_column_or_one():
    x, y = np.zeros((3, 2)), np.ones((3, 2))
    run("bce_with_logits", {"pos_weight": [3.0]}, input=x, target=y)
    run("bce_with_logits", {"pos_weight": [3.0, 1.0]}, input=x, target=y)
    assert "2 columns" in usage_error("bce_with_logits", {"pos_weight": [1.0, 2.0, 3.0]}, input=x, target=y)
