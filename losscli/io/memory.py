"""Inputs held in memory (the Python API): numpy arrays, pandas objects, torch tensors and nested lists.

Each becomes a ``loading.Source``, as a file would, so that the same columns,
checks and messages apply: a pandas DataFrame or Series is a table (its column
names are its header), anything else an array of any shape, as an ``.npy``
file is. Paths (``str`` or ``os.PathLike``) are left to ``loading.read_source``.
Neither pandas nor torch is imported here: an object is recognised by its type's
module, so a caller who passes neither never loads them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from losscli.errors import DataError
from losscli.io.loading import ColumnProblem, Source, check_array

Data = Any
"""What the API takes for an input: a path, or an array-like held in memory."""


def in_memory_source(name: str, data: Data) -> Source:
    """``data`` as a loaded input named ``name`` in messages (``"<pred>"``)."""
    module = type(data).__module__.partition(".")[0]
    if module == "torch":  # detached, on the CPU: the values, not the graph or the device
        data = data.detach().cpu().numpy()
    elif module == "pandas" and hasattr(data, "to_frame") and hasattr(data, "dtype"):  # a Series
        data = data.to_frame(name=data.name if data.name is not None else 0)
    if module == "pandas" and hasattr(data, "columns"):
        return _frame_source(name, data)
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as e:  # ragged nested lists
        raise DataError(f"{name}: cannot be read as an array ({e}); give rows of equal length") from None
    check_array(name, array.dtype, array.shape)
    return Source(name, array, None)


def _frame_source(name: str, frame: Any) -> Source:
    """A DataFrame as a table: its columns by name, integer columns kept exact. A column of other values
    (text, categories, dates) is unreadable if chosen, and left out of a default choice of columns."""
    columns = [str(c) for c in frame.columns]
    kinds = [getattr(dtype, "kind", "O") for dtype in frame.dtypes]  # numpy's, or a pandas extension dtype's
    numeric = [i for i, kind in enumerate(kinds) if kind in "biuf"]
    unreadable = {
        i: ColumnProblem(
            f"column {columns[i]!r} holds {frame.dtypes.iloc[i]} values, not numbers",
            "give numeric columns (frame.select_dtypes('number')), or choose them with",
        )
        for i in range(len(columns))
        if i not in numeric
    }
    text = frozenset(i for i in unreadable if _holds_text(frame.iloc[:, i]))
    integer = frozenset(i for i in numeric if kinds[i] in "iub")
    numbers = frame.iloc[:, numeric]
    values = numbers.to_numpy()
    if values.dtype.kind not in "biuf":  # nullable columns (Int64, Float64): a missing value is NaN, refused later
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    if unreadable:  # NaN in the columns that are not numbers, as a file's reader leaves them
        array = np.full((len(frame), len(columns)), np.nan)
        array[:, numeric] = values
    else:
        array = values
    check_array(name, array.dtype, array.shape)
    integer = integer if array.dtype.kind == "f" else frozenset()
    return Source(name, array, columns, integer, unreadable, text_columns=text)


def _holds_text(series: Any) -> bool:
    """Whether a column that is not numbers holds text, categories or dates and no number (as a file's text
    columns, ``arrow.is_text_column``)."""
    present = series.dropna()
    if getattr(series.dtype, "kind", "O") in "mM" or str(series.dtype) == "category":
        return len(present) > 0
    return len(present) > 0 and all(isinstance(v, str) for v in present)
