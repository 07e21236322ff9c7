"""Columns that describe the rows rather than feed a loss: what ``--by`` slices by, and ``--sample-weight``'s weights.

A slice column may hold text (a region, a model version, a date) as well as
numbers, so these are read as they are written, by name from a table (a text
file, Parquet, a DataFrame held in memory) or by 0-based index, whole, into
pandas Series: a column whose every cell reads as a number is numbers
(whole numbers as integers), any other is text; an empty cell is missing.
Standard input and pipes are read once, by the loss's readers, so their
columns cannot be read again here: ``--slices FILE`` gives them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from losscli.errors import DataError
from losscli.io.files import _PARQUET_EXTENSIONS, _TEXT_DELIMITERS, _check_file, _is_regular_file, _map_file, is_stream


def read_row_columns(path: str, names: Sequence[str], *, header: bool | None = None, option: str = "--by") -> dict:
    """The columns ``names`` of the table at ``path`` (name, or 0-based index), as pandas Series by name."""
    if path == "-" or is_stream(path):
        raise DataError(
            f"{option}: {path if path != '-' else 'standard input'} is read once, for the loss; give the columns "
            "in a file of their own with --slices FILE"
        )
    extension = os.path.splitext(path)[1].lower()
    _is_regular_file(path, extension)
    _check_file(path)
    if extension in _TEXT_DELIMITERS:
        return _text_columns(path, _TEXT_DELIMITERS[extension], names, header, option)
    if extension in _PARQUET_EXTENSIONS:
        return _parquet_columns(path, names, option)
    if extension in (".npy", ".npz"):
        return _array_columns(path, names, option)
    raise DataError(f"{path}: {option} reads .csv, .tsv, .txt, .parquet, .npy or .npz files")


def frame_columns(name: str, frame: Any, names: Sequence[str], option: str = "--by") -> dict:
    """The columns ``names`` of a DataFrame held in memory (the Python API), by name or 0-based index."""
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=frame.name if frame.name is not None else 0)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{option}: {name} is an array, not a table with named columns; give a DataFrame")
    columns = [str(c) for c in frame.columns]
    found = {}
    for column in names:
        index = _column_index(name, columns, column, option)
        found[column] = _typed(frame.iloc[:, index].reset_index(drop=True))
    return found


def _column_index(path: str, columns: list[str], column: str, option: str) -> int:
    if column in columns:
        return columns.index(column)
    try:
        index = int(column)
    except ValueError:
        index = None
    if index is None or not -len(columns) <= index < len(columns):
        shown = ", ".join(repr(c) for c in columns[:20]) + (", ..." if len(columns) > 20 else "")
        raise DataError(f"{path}: no column {column!r} for {option}; the columns are {shown}")
    return index % len(columns)


def _text_columns(path: str, delimiter: str, names: Sequence[str], header: bool | None, option: str) -> dict:
    import pyarrow as pa
    import pyarrow.compute as pc

    from losscli.io.text import _find_layout, _has_lone_cr, _lf_line_ends, _raw_column

    data = _map_file(path)
    if _has_lone_cr(data):
        data = _lf_line_ends(data)
    layout = _find_layout(path, data, delimiter, header)
    found = {}
    for column in names:
        index = _column_index(path, layout.names, column, option)
        raw = _raw_column(layout, index)
        try:
            cells = pc.utf8_trim_whitespace(pc.cast(raw, pa.string()))
        except pa.ArrowInvalid:
            raise DataError(f"{path}: column {column!r} is not UTF-8 text; write the file as UTF-8") from None
        found[column] = _typed(cells.to_pandas().replace("", None))
    return found


def _parquet_columns(path: str, names: Sequence[str], option: str) -> dict:
    from losscli.io.parquet import _open_parquet

    parquet, columns, _ = _open_parquet(path)
    with parquet:
        found = {}
        for column in names:
            index = _column_index(path, columns, column, option)
            table = parquet.read(columns=[columns[index]], use_pandas_metadata=False)
            found[column] = _typed(table.column(0).to_pandas())
    return found


def _array_columns(path: str, names: Sequence[str], option: str) -> dict:
    import pandas as pd

    from losscli.io.loading import read_source

    array = np.asarray(read_source(path).array)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise DataError(f"{path}: {option} takes a column of a 1-D or 2-D array, not one of shape {array.shape}")
    columns = [str(i) for i in range(array.shape[1])]
    return {column: _typed(pd.Series(array[:, _column_index(path, columns, column, option)])) for column in names}


def _typed(series: Any) -> Any:
    """Text whose every cell reads as a number is numbers (whole numbers as integers); the rest stays as it is."""
    import pandas as pd

    from losscli.io.arrow import NUMBER_PATTERN

    if series.dtype == object or pd.api.types.is_string_dtype(series):
        present = series.dropna().astype(str)
        if len(present) and present.str.fullmatch(NUMBER_PATTERN.strip("^$"), case=False).all():
            series = pd.to_numeric(series)
        else:
            return series.astype(object).where(series.notna(), None)
    if pd.api.types.is_float_dtype(series) and series.dropna().mod(1).eq(0).all() and series.notna().any():
        values = series.dropna()
        if values.abs().max() < 2**53:
            return series.astype("Int64")
    return series


# --- sample weights ------------------------------------------------------------------------------------


def sample_weights(values: Any, source: str) -> np.ndarray:
    """A weight per row as float64, checked: numbers, finite, at least 0, not all 0 (their rows are checked
    against the inputs' as they are read)."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        first = next((i for i, v in enumerate(values) if v is not None and not _is_number(v)), 0)
        raise DataError(
            f"--sample-weight {source}: row {first + 1} holds {str(values.iloc[first])[:40]!r}, not a number; "
            "give a number per row"
        )
    weights = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        row = int(bad[0])
        what = "empty" if math.isnan(weights[row]) else f"{weights[row]:g}"
        raise DataError(
            f"--sample-weight {source}: row {row + 1} is {what}; weights are finite numbers >= 0 (0 leaves a row out)"
        )
    if not weights.sum() > 0:
        raise DataError(f"--sample-weight {source}: every weight is 0, so no row counts; give some weight")
    return np.array(weights, dtype=np.float64)  # a copy of its own, writable: torch shares its memory


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def weight_values(option_value: str, labels_path: str | None, header: bool | None) -> tuple[Any, str]:
    """``--sample-weight COL|PATH``'s values (a Series) and how to name them: a column of the labels' file if it
    has one so named, else a file of one column (or a 1-D array)."""
    if labels_path is not None and labels_path != "-" and not is_stream(labels_path) and os.path.isfile(labels_path):
        try:
            column = read_row_columns(labels_path, [option_value], header=header, option="--sample-weight")
        except DataError:
            column = None
        if column is not None and not os.path.exists(option_value):
            return column[option_value], f"{labels_path}:{option_value}"
        if column is not None and os.path.exists(option_value):
            raise DataError(
                f"--sample-weight {option_value}: both a column of {labels_path} and a file; rename one of them"
            )
    if not os.path.exists(option_value):
        where = f"no column {option_value!r} in {labels_path} and " if labels_path else ""
        raise DataError(
            f"--sample-weight {option_value}: {where}no such file; give a column of the labels' file or a path"
        )
    import pandas as pd

    from losscli.io.loading import read_source, select_columns

    array = np.asarray(select_columns(read_source(option_value, header=header), None, option="--sample-weight"))
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(
            f"--sample-weight {option_value}: holds an array of shape {array.shape}; give one weight per row "
            "(one column, or a 1-D array)"
        )
    return pd.Series(array), option_value
