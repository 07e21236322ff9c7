"""Read prediction and label files into numpy arrays (SPEC §2): the front door of the readers.

The readers are being split into a module per form; for now they all sit in
``losscli.io.text``, and this module gives their public names.
"""

from __future__ import annotations

from losscli.io.text import (
    ColumnProblem,
    Source,
    cell_as_written,
    check_array,
    is_stream,
    iter_row_chunks,
    line_of_row,
    read_as_text,
    read_source,
    rechunk,
    remember_header,
    resolve_columns,
    row_slices,
    select_columns,
    split_column_options,
)

__all__ = [
    "ColumnProblem",
    "Source",
    "cell_as_written",
    "check_array",
    "is_stream",
    "iter_row_chunks",
    "line_of_row",
    "read_as_text",
    "read_source",
    "rechunk",
    "remember_header",
    "resolve_columns",
    "row_slices",
    "select_columns",
    "split_column_options",
]
