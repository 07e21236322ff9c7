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
from losscli.io.loading import Source, check_array

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
    """A DataFrame as a table: its columns by name, integer columns kept exact."""
    columns = [str(c) for c in frame.columns]
    kinds = [getattr(dtype, "kind", "O") for dtype in frame.dtypes]  # numpy's, or a pandas extension dtype's
    for column, dtype, kind in zip(columns, frame.dtypes, kinds, strict=True):
        if kind not in "biuf":
            raise DataError(
                f"{name}: column {column!r} holds {dtype} values, not numbers; give numeric columns only "
                "(e.g. frame[[...]] or frame.select_dtypes('number'))"
            )
    integer = frozenset(i for i, kind in enumerate(kinds) if kind in "iub")
    array = frame.to_numpy()
    if array.dtype.kind not in "biuf":  # nullable columns (Int64, Float64): a missing value is NaN, refused later
        array = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    check_array(name, array.dtype, array.shape)
    return Source(name, array, columns, integer_columns=integer if array.dtype.kind == "f" else frozenset())
