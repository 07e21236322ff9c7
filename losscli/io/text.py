"""Text tables (.csv, .tsv, .txt, ``-`` for standard input, pipes): the layout found from the first lines
(delimiter, header, pandas' index column), and the table parsed whole.

Text tables are parsed by ``pyarrow.csv`` and turned into numpy through the
Arrow buffers, so neither pandas nor a per-line Python loop is involved on the
normal path. The slow Python scans below run only to explain a problem: which
row and line hold the bad cell, which line has the wrong number of fields
(``cell_as_written`` and ``line_of_row`` find a file's rows again for the
messages of later checks).
"""

from __future__ import annotations

import collections
import csv
import itertools
import mmap
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from losscli.errors import DataError
from losscli.io.arrow import _first_null, _numeric_kind, _numpy_chunks, _stack_columns, is_text_column
from losscli.io.files import _TEXT_DELIMITERS, _WHITESPACE, STDIN_NAME, _map_file
from losscli.io.source import ColumnProblem, Source, _shorten

if TYPE_CHECKING:
    import pyarrow as pa


_UTF8_BOM = b"\xef\xbb\xbf"


# A newline and the comment line or line of spaces after it, which pyarrow
# would read as a row: removing the match removes that line (empty lines
# pyarrow skips itself). Bodies handed to it start at a newline or a data line.
# A match ends at a carriage return too: pyarrow ends a line there, so a
# comment never swallows the row after a lone CR.
_SKIPPED_LINE = re.compile(rb"\n(?:[ \t\r\f\v]*#[^\r\n]*|[ \t\r\f\v]*[ \t\f\v][ \t\r\f\v]*)(?=[\r\n]|\Z)")


# A line of spaces only: blank to us, a row of empty cells to pyarrow.
_SPACE_ONLY_LINE = re.compile(rb"\n[ \t\r\f\v]*[ \t\f\v][ \t\r\f\v]*(?=\n|\Z)")


# Any skipped line (empty too) followed by another line: it shifts row numbers.
_SKIPPED_LINE_INSIDE = re.compile(rb"\n[ \t\r\f\v]*(?:#[^\n]*)?\n")


_SPACES_TO_TAB = bytes.maketrans(b" \f\v", b"\t\t\t")


# A carriage return that does not start a CRLF: the line end of old Mac files.
_LONE_CR = re.compile(rb"\r(?!\n)")


_PLAIN_INTEGER = re.compile(r"\s*[+-]?\d+\s*")


@dataclass
class _Layout:
    """Where the data of a text table start, and how its lines split into fields."""

    name: str
    data: bytes | mmap.mmap
    delimiter: str
    names: list[str]  # the columns read: pandas' index column is not one of them
    header_line: int | None  # 1-based line of the header, None without one
    first_line: int  # 1-based line at which the search for data rows starts
    body_start: int  # byte offset of that line, or of the newline ending the header
    path: str | None = None  # the file, when pyarrow may read it directly
    index_column: bool = False  # every line starts with a field of pandas' index, left out
    notes: list[str] = field(default_factory=list)  # become ``Source.notes``
    first_row: int = 0  # data rows before these, for a piece of a streamed file
    fields_from: str | None = None  # for a piece: the whole file's line that sets the number of fields
    hex_prefix: bool | None = None  # whether the body holds 0x or 0X: searched once, when first asked

    @property
    def fields_reference(self) -> str:
        """The line whose number of fields every row must have, as messages name it."""
        if self.fields_from is not None:
            return self.fields_from
        if self.header_line:
            return f"the header (line {self.header_line})"
        return f"the first row (line {self.first_line})"

    @property
    def n_fields(self) -> int:
        """Fields per line, pandas' index included."""
        return len(self.names) + self.index_column


def _read_text(
    name: str,
    data: bytes | mmap.mmap,
    delimiter: str | None,
    *,
    path: str | None = None,
    header: bool | None = None,
    float_dtype: type = np.float64,
) -> Source:
    if _has_lone_cr(data):  # old Mac line ends: the scans below split lines at "\n"
        data, path = _lf_line_ends(data), None
    layout = _find_layout(name, data, delimiter, header)
    layout.path = path
    names = layout.names
    small = _parse_small(layout)
    if small is not None:
        values = [_as_integers([column], float_dtype) for column in small.T]
        array, integer_columns = _stack_columns(values, len(small), float_dtype)
        return Source(name, array, names, integer_columns, notes=layout.notes)
    if layout.n_fields > WIDE_FIELDS:
        return _read_wide(layout, float_dtype)
    table = _parse_file(layout, float_dtype) or _parse_body(layout)
    values: list[list[np.ndarray] | None] = []
    unreadable: dict[int, ColumnProblem] = {}
    text: set[int] = set()
    for index, column in enumerate(table.columns):
        chunks, problem = _convert_text_column(layout, index, column)
        values.append(_as_integers(chunks, float_dtype))
        if problem is not None:
            unreadable[index] = problem
            if is_text_column(column):
                text.add(index)
    array, integer_columns = _stack_columns(values, table.num_rows, float_dtype)
    return Source(name, array, names, integer_columns, unreadable, layout.notes, frozenset(text))


_ODD_CONTROLS = re.compile("[\x0b\x0c\x1c\x1d\x1e]|\r(?!\n)")


SMALL_TEXT = 256 << 10
"""Text tables up to this many bytes are parsed in Python: importing pyarrow would take longer."""


def _parse_small(layout: _Layout) -> np.ndarray | None:
    """A small, clean table as a float64 (rows, columns) array; None when it is large or anything is odd.

    Every cell must read as a float and every row have the header's width;
    otherwise the pyarrow path parses the file and names the problem.
    """
    if len(layout.data) > SMALL_TEXT:
        return None
    text = bytes(layout.data[layout.body_start :]).decode("utf-8", errors="replace")
    if not text.isascii() or "_" in text:  # Python's float reads 1_000 and other digits than 0-9; pyarrow does not
        return None
    if _ODD_CONTROLS.search(text):  # line ends to str.splitlines and whitespace to str.split, but not to pyarrow
        return None
    rows = []
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        stripped = line.strip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        if layout.delimiter == _WHITESPACE:
            fields = stripped.split()
        elif line.count('"') % 2:  # a quoted field that goes on past the line end: pyarrow's to parse
            return None
        else:  # the line as it is: stripping it could take a tab delimiter off its end
            fields = next(csv.reader([line], delimiter=layout.delimiter))
        if len(fields) != layout.n_fields:
            return None
        fields = fields[layout.index_column :]
        if not all(field.strip() for field in fields):
            return None
        try:
            rows.append([float(field) for field in fields])
        except ValueError:
            return None
    return np.array(rows, dtype=np.float64).reshape(len(rows), len(layout.names)) if rows else None


def _as_integers(chunks: list[np.ndarray] | None, float_dtype: type) -> list[np.ndarray] | None:
    """A text column whose every value is a whole number that ``float_dtype`` reads exactly, as int64.

    Text is read in the precision of the run: the fast path parses every
    column as ``float_dtype``, so class indices come back as integers all the
    same, but a whole number past 2**24 is not exact in a float32 run. A
    column read another way (Python's float, pyarrow's inference as int64)
    is given the same way: past that limit, as ``float_dtype``.
    """
    if not chunks:
        return chunks
    limit = 2 ** (np.finfo(float_dtype).nmant + 1)  # 2**24 + 1 parses as 2**24: from there on, not exact
    if chunks[0].dtype.kind in "iu":
        if all(-limit < chunk.min() and chunk.max() < limit for chunk in chunks):
            return chunks
        return [chunk.astype(float_dtype) for chunk in chunks]
    for chunk in chunks:
        if not (np.all(np.floor(chunk) == chunk) and np.all(np.abs(chunk) < limit)):
            return chunks
    return [chunk.astype(np.int64) for chunk in chunks]


_LINE_END_BYTES = 1 << 16
"""A text table's line ends are judged by this many of its first bytes."""


def _has_lone_cr(data: bytes | mmap.mmap) -> bool:
    """Whether the table's first bytes end a line with a lone carriage return (old Mac files, or CR mixed with CRLF).

    Only the first bytes are looked at, so large files pay nothing: pyarrow
    ends lines at a lone CR itself, so one further down parses right anyway.
    """
    head = data[: _LINE_END_BYTES + 1]
    found = _LONE_CR.search(head)
    return found is not None and found.start() < _LINE_END_BYTES  # a CR in the last byte may start a CRLF


def _lf_line_ends(data: bytes | mmap.mmap) -> bytes:
    """The bytes with every CRLF and lone CR made a newline."""
    return bytes(data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def _find_layout(
    name: str, data: bytes | mmap.mmap, delimiter: str | None, header: bool | None = None, *, again: bool = False
) -> _Layout:
    """A text table's delimiter, header and columns, from its first two data lines.

    ``delimiter`` is the extension's (``_WHITESPACE`` for .txt), or None to
    sniff it (standard input and other streams). ``header`` makes the first
    line the header (True) or data (False); None decides by ``_is_header``.
    A header whose first field is empty is what pandas writes above its
    index (``df.to_csv(path)``): that column is left out, with a note.
    """
    start = len(_UTF8_BOM) if data[: len(_UTF8_BOM)] == _UTF8_BOM else 0
    first = _next_data_line(data, start, 1)
    if first is None:
        if data[start:].strip():
            raise DataError(f"{name}: no data rows, only comments and blank lines; add rows of numbers")
        empty = "standard input is empty" if name == STDIN_NAME else "the file is empty"
        raise DataError(f"{name}: {empty}; give rows of numbers, optionally under a header line")
    line_no, line_start, line_end = first
    text = _line_text(data, line_start, line_end)
    delimiter = _sniff_delimiter(text, delimiter)
    fields = _split_fields(text, delimiter)
    notes: list[str] = []
    if header is None:
        header = _is_header(name, data, fields, line_no, line_end, delimiter, notes)
    if not header:
        n_fields = len(fields)
        del fields  # a line of millions of fields: hold its cells or their names, not both
        names = list(map(str, range(n_fields)))
        return _Layout(name, data, delimiter, names, None, line_no, line_start, notes=notes)
    names = [value.strip() for value in fields]
    index_column = len(names) > 1 and not names[0]
    if index_column:
        names = names[1:]
        notes.append(
            f"{name}: the first column has no name: read as pandas' index (as df.to_csv writes it) and left out"
        )
    layout = _Layout(
        name, data, delimiter, names, line_no, line_no + 1, line_end, index_column=index_column, notes=notes
    )
    if _next_data_line(data, min(line_end + 1, len(data)), line_no + 1) is None:
        raise DataError(f"{name}: a header on line {line_no} but no data rows below it; add rows of numbers")
    return layout


def _is_header(
    name: str,
    data: bytes | mmap.mmap,
    fields: list[str],
    line_no: int,
    line_end: int,
    delimiter: str,
    notes: list[str],
) -> bool:
    """Whether the first data line (``fields``, ending at ``line_end``) is the header (README, "Input forms").

    It is when one of its fields is not a number. It is also when it numbers
    the columns, 0, 1, ..., C-1, above a line holding a number that is not a
    plain integer: pandas writes that header above floats
    (``pd.DataFrame(array).to_csv(index=False)``). Above plain integers it
    stays data, as a file of class indices starts; with two columns or more
    that is ambiguous, and a note says so and names --header. A lone ``0``
    read as a header is ambiguous too (a value written with ``%g``), and a
    note names --no-header.
    """
    try:
        collections.deque(map(float, fields), maxlen=0)  # a loop in C: lines may hold millions of fields
    except ValueError:
        return True
    if not all(value.strip() == str(index) for index, value in enumerate(fields)):
        return False
    found = _next_data_line(data, min(line_end + 1, len(data)), line_no + 1)
    if found is None:
        return False
    following = _split_fields(_line_text(data, found[1], found[2]), delimiter)
    if not all(_PLAIN_INTEGER.fullmatch(value) for value in following):
        if len(fields) == 1:  # a lone 0 above 1.5 may as well be a value written with %g
            notes.append(
                f"{name}: line {line_no} (0) read as pandas' header of an unnamed column, as the next line holds "
                f"{following[0].strip()!r}, not a whole number: pass --no-header if it is a row of data "
                "(--header keeps it as the header without this warning)"
            )
        return True
    if len(fields) > 1:
        numbers = ",".join(fields) if len(fields) <= 4 else f"0,1,...,{len(fields) - 1}"
        notes.append(
            f"{name}: line {line_no} ({numbers}) may be pandas' header of column numbers or a row of data; read as "
            "data, as the next line holds whole numbers only: pass --header if it is a header (--no-header keeps "
            "it as data without this warning)"
        )
    return False


def _next_data_line(data: bytes | mmap.mmap, pos: int, line_no: int) -> tuple[int, int, int] | None:
    """(line number, start, end) of the first line at or after ``pos`` that is neither blank nor a comment."""
    size = len(data)
    while pos < size:
        end = data.find(b"\n", pos)
        end = size if end < 0 else end
        if _is_data_line(data[pos:end]):
            return line_no, pos, end
        pos, line_no = end + 1, line_no + 1
    return None


def _data_lines(layout: _Layout) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each data line below the header; a Python loop, for errors and wide tables."""
    data = layout.data
    pos = layout.body_start + 1 if layout.header_line else layout.body_start
    line_no = layout.first_line
    while (found := _next_data_line(data, pos, line_no)) is not None:
        line_no, start, end = found
        yield line_no, bytes(data[start:end])
        pos, line_no = end + 1, line_no + 1


def _is_data_line(line: bytes) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(b"#")


def _line_text(data: bytes | mmap.mmap, start: int, end: int) -> str:
    return bytes(data[start:end]).decode("utf-8", errors="replace").rstrip("\r")


def _sniff_delimiter(line: str, delimiter: str | None) -> str:
    """The delimiter of a table whose first data line is ``line``.

    A .txt file (``_WHITESPACE``) is split at runs of spaces and tabs, or at
    commas when its first line holds one. A stream (None) at tabs, commas or
    runs of spaces, whichever its first line shows first in that order.
    """
    if delimiter == _WHITESPACE:
        return "," if "," in line else _WHITESPACE
    if delimiter is not None:
        return delimiter
    if "\t" in line:
        return "\t"
    if "," in line or len(line.split()) < 2:
        return ","
    return _WHITESPACE


def _split_fields(line: str, delimiter: str) -> list[str]:
    if delimiter == _WHITESPACE:
        return line.split()
    try:
        return next(csv.reader([line], delimiter=delimiter))
    except csv.Error:  # e.g. a stray carriage return: split plainly, pyarrow will say what is wrong
        return line.split(delimiter)


def _parse_file(layout: _Layout, float_dtype: type) -> pa.Table | None:
    """The fast path: pyarrow reads a plain comma/tab file itself, every column as ``float_dtype``.

    Reading through the mapped bytes would make every page of the file part of
    the process's resident memory; pyarrow's own buffered reads do not, and
    with the column type given up front it neither infers nor converts: a 10M-row
    column parses in half the time and a third of the memory. Integer labels
    stay exact (float64 up to 2**53, float32 up to 2**24, the precision the
    loss runs in). Taken only for files without a ``#`` anywhere (no comment
    lines to drop) whose cells all parse as numbers; anything else returns
    None and goes the byte-level way of ``_parse_body``, which also explains
    the problems.
    """
    import pyarrow as pa

    if layout.path is None or layout.delimiter == _WHITESPACE or _file_contains(layout.path, b"#"):
        return None
    try:
        with pa.OSFile(layout.path) as source:
            source.seek(layout.body_start)
            table = _arrow_csv(source, layout, as_type=pa.from_numpy_dtype(float_dtype))
    except pa.ArrowInvalid:
        return None
    clean = all(_numeric_kind(column.type) is not None and not column.null_count for column in table.columns)
    return table if clean else None


def _file_contains(path: str, needle: bytes) -> bool:
    """Whether the file holds ``needle``, read in blocks (the page cache, not this process, holds it)."""
    block = bytearray(1 << 23)
    with open(path, "rb", buffering=0) as handle:
        while size := handle.readinto(block):
            if block.find(needle, 0, size) >= 0:
                return True
    return False


def _parse_body(layout: _Layout) -> pa.Table:
    """Parse the data rows with pyarrow, dropping comment lines first only if the bytes hold a ``#``."""
    import pyarrow as pa

    data, start = layout.data, layout.body_start
    body: bytes | memoryview = memoryview(data)[start:]
    filtered = data.find(b"#", start) >= 0
    if filtered:
        body = _SKIPPED_LINE.sub(b"", body)
    if layout.delimiter == _WHITESPACE:
        body = _tab_separated(body)
    try:
        table = _arrow_csv(_buffer(body), layout)
        needs_retry = not filtered and any(
            _numeric_kind(column.type) is None or column.null_count for column in table.columns
        )
    except pa.ArrowInvalid as exc:
        table, needs_retry, error = None, not filtered, exc
    # Lines of spaces are blank to us but rows of empty cells to pyarrow:
    # look for them only once something went wrong, then parse again without them.
    if needs_retry and _SPACE_ONLY_LINE.search(body):
        body = _SKIPPED_LINE.sub(b"", body)
        try:
            table = _arrow_csv(_buffer(body), layout)
        except pa.ArrowInvalid as exc:
            table, error = None, exc
    if table is None:
        _raise_ragged_line(layout)
        raise DataError(f"{layout.name}: cannot parse the table ({error}); fix the file") from None
    return table


def _tab_separated(body: bytes | memoryview) -> bytes:
    """Whitespace-separated text as tab-separated, for pyarrow: each run of
    spaces and tabs becomes one tab, and none is left at either end of a line.

    Plain bytes operations, each a C pass over the data; collapsing runs takes
    one pass per doubling of the longest run.
    """
    text = bytes(body).translate(_SPACES_TO_TAB)
    while b"\t\t" in text:
        text = text.replace(b"\t\t", b"\t")
    text = text.replace(b"\n\t", b"\n").replace(b"\t\n", b"\n").replace(b"\t\r", b"\r")
    return text.removeprefix(b"\t").removesuffix(b"\t")


def _buffer(body: bytes | memoryview) -> pa.NativeFile:
    import pyarrow as pa

    return pa.BufferReader(pa.py_buffer(body))


def _arrow_csv(
    source: pa.NativeFile, layout: _Layout, only: int | None = None, as_type: pa.DataType | None = None
) -> pa.Table:
    """Run ``pyarrow.csv.read_csv`` over ``source``, the table's body, without pandas' index column.

    ``only`` reads that one column as raw bytes, ``as_type`` parses every
    column as that type instead of inferring.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{index}" for index in range(layout.n_fields)]
    kept = names[layout.index_column :]
    whitespace = layout.delimiter == _WHITESPACE
    if only is not None:
        included, column_types = [kept[only]], {kept[only]: pa.binary()}
    else:
        included = kept if layout.index_column else None
        column_types = dict.fromkeys(kept, as_type) if as_type else None
    return pcsv.read_csv(
        source,
        read_options=pcsv.ReadOptions(column_names=names, use_threads=True),
        parse_options=pcsv.ParseOptions(
            delimiter="\t" if whitespace else layout.delimiter,
            quote_char=False if whitespace else '"',
            ignore_empty_lines=True,
        ),
        convert_options=pcsv.ConvertOptions(
            null_values=[""], strings_can_be_null=False, column_types=column_types, include_columns=included
        ),
    )


def _convert_text_column(
    layout: _Layout, index: int, column: pa.ChunkedArray
) -> tuple[list[np.ndarray] | None, ColumnProblem | None]:
    """The column's values as numpy chunks, or the problem of its first bad cell."""
    import pyarrow as pa

    kind = _numeric_kind(column.type)
    if pa.types.is_integer(column.type) and _may_hold_hex(layout):
        # pyarrow reads 0x1A as 26; Python's float(), numpy and pandas do not, nor do we
        row, text = _first_non_number(_raw_column(layout, index))
        if row is not None:
            return None, _bad_cell(layout, index, row, text)
    if kind is not None and not column.null_count:
        return _numpy_chunks(column, kind), None
    if kind is None and not pa.types.is_null(column.type):
        if not pa.types.is_string(column.type):  # dates, invalid UTF-8...: read the raw bytes again
            column = _raw_column(layout, index)
        row, text = _first_non_number(column)
        if row is None:  # every cell reads as a number once trimmed
            floats = pa.chunked_array([_cast_text(chunk, pa.float64()) for chunk in column.chunks], pa.float64())
            return _numpy_chunks(floats, "float"), None
    else:
        row, text = _first_null(column), ""
    return None, _bad_cell(layout, index, row, text)


def _bad_cell(layout: _Layout, index: int, row: int, text: str) -> ColumnProblem:
    """The problem of the cell at ``row`` of column ``index``, which holds ``text``."""
    line = _line_of_row(layout, row)
    where = f"row {layout.first_row + row + 1} (line {line}), column {layout.names[index]!r}"
    if not text.strip():
        return ColumnProblem(f"{where}: empty cell", "fill it in or choose other columns with")
    return ColumnProblem(
        f"{where}: cannot read {_shorten(text)!r} as a number", "fix the cell or choose numeric columns with"
    )


def _may_hold_hex(layout: _Layout) -> bool:
    """Whether the table's body holds ``0x`` or ``0X`` anywhere (a fast search each, once per table; a hit
    is checked cell by cell)."""
    if layout.hex_prefix is None:
        layout.hex_prefix = any(layout.data.find(prefix, layout.body_start) >= 0 for prefix in (b"0x", b"0X"))
    return layout.hex_prefix


def _raw_column(layout: _Layout, index: int) -> pa.ChunkedArray:
    """Column ``index`` of the table's body as the bytes written, comment lines and lines of spaces dropped."""
    body = _SKIPPED_LINE.sub(b"", memoryview(layout.data)[layout.body_start :])
    if layout.delimiter == _WHITESPACE:
        body = _tab_separated(body)
    return _arrow_csv(_buffer(body), layout, only=index).column(0)


def _first_non_number(column: pa.ChunkedArray) -> tuple[int | None, str]:
    """Row and text of the first cell of a text column that is empty or not a number.

    Bisects each chunk with vectorized casts, so it costs O(n log n) in Arrow, not a Python loop.
    """
    import pyarrow as pa

    def readable(cells: pa.Array) -> bool:
        if cells.null_count:
            return False
        try:
            _cast_text(cells, pa.float64())
        except pa.ArrowInvalid:
            return False
        return True

    offset = 0
    for chunk in column.chunks:
        if not readable(chunk):
            low, high = 0, len(chunk)  # the first bad cell is in [low, high)
            while high - low > 1:
                middle = (low + high) // 2
                if readable(chunk.slice(low, middle - low)):
                    low = middle
                else:
                    high = middle
            value = chunk[low].as_py() or ""
            return offset + low, value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value
        offset += len(chunk)
    return None, ""


def _cast_text(cells: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast text or bytes cells to ``target``, ignoring spaces around them; ArrowInvalid when one does not parse."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(cells.type):
        cells = pc.cast(cells, pa.string())  # raises ArrowInvalid on invalid UTF-8
    return pc.cast(pc.utf8_trim_whitespace(cells), target)


def _line_of_row(layout: _Layout, row: int) -> int:
    """The 1-based line of the file holding data row ``row`` (0-based); runs only to explain a problem."""
    data, start = layout.data, layout.body_start
    if not _SKIPPED_LINE_INSIDE.search(memoryview(data)[start:]):
        return layout.first_line + row
    pos, line_no = (start + 1, layout.first_line) if layout.header_line else (start, layout.first_line)
    for _ in range(row + 1):
        found = _next_data_line(data, pos, line_no)
        if found is None:
            break
        line_no, _, end = found
        pos, line_no = end + 1, line_no + 1
    return line_no - 1


def _raise_ragged_line(layout: _Layout) -> None:
    """Raise a DataError for the first row whose number of fields differs from the header's."""
    for line_no, line in _data_lines(layout):
        n_fields = len(_split_fields(line.decode("utf-8", errors="replace").rstrip("\r"), layout.delimiter))
        if n_fields != layout.n_fields:
            raise _ragged_line(layout, line_no, n_fields)


def _ragged_line(layout: _Layout, line_no: int, n_fields: int) -> DataError:
    return DataError(
        f"{layout.name}: line {line_no} has {n_fields} field{'s' * (n_fields != 1)} but {layout.fields_reference} "
        f"has {layout.n_fields}; give every row the same number of fields"
    )


WIDE_FIELDS = 10_000
"""Text tables of more fields a line than this are read a line at a time (see ``_read_wide``)."""


def _read_wide(layout: _Layout, float_dtype: type) -> Source:
    """A table of very long lines, each line's cells parsed as one column of its own.

    pyarrow's table reader keeps kilobytes per column: a line of five million
    numbers would take tens of gigabytes, and a line longer than its block
    does not parse at all. Cut at its delimiters, a line is one column of
    cells, which pyarrow parses in memory proportional to the line. Such
    tables have few lines, so the loop over them costs little. Every cell
    must be a number: the first that is not is the error.
    """
    lines = enumerate(_data_lines(layout))
    array = np.stack([_wide_row(layout, row, line_no, line, float_dtype) for row, (line_no, line) in lines])
    limit = 2 ** (np.finfo(float_dtype).nmant + 1)  # whole numbers the run's type reads exactly, as _as_integers
    whole = np.all((np.floor(array) == array) & (np.abs(array) < limit), axis=0)
    integers = frozenset(np.flatnonzero(whole).tolist())
    if whole.all():
        array = array.astype(np.int64)
    return Source(layout.name, array, layout.names, integers, notes=layout.notes)


def _wide_row(layout: _Layout, row: int, line_no: int, line: bytes, float_dtype: type) -> np.ndarray:
    """The numbers of one data line (``row``, 0-based) of a wide table, pandas' index left out, as ``float_dtype``."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    line = line.rstrip(b"\r")
    if layout.delimiter == _WHITESPACE:
        cells, quote = _tab_separated(line.strip()).replace(b"\t", b"\n"), False
    else:
        cells, quote = line.replace(layout.delimiter.encode(), b"\n"), '"'
    cells += b"\n"  # the last cell ends a line of its own, even when empty

    def parse(cell_type: pa.DataType) -> pa.ChunkedArray:
        return pcsv.read_csv(
            pa.py_buffer(cells),
            read_options=pcsv.ReadOptions(column_names=["cell"], use_threads=True),
            parse_options=pcsv.ParseOptions(quote_char=quote, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types={"cell": cell_type}, null_values=[""], strings_can_be_null=False
            ),
        ).column(0)

    as_type = pa.from_numpy_dtype(float_dtype)
    try:
        column = parse(as_type)
    except pa.ArrowInvalid:  # a cell that is not a number: find it below
        column = parse(pa.binary())
    if len(column) != layout.n_fields:
        raise _ragged_line(layout, line_no, len(column))
    column = column.slice(layout.index_column)
    if pa.types.is_floating(column.type) and not column.null_count:
        return np.concatenate(_numpy_chunks(column, "float"))
    index, text = (_first_null(column), "") if column.null_count else _first_non_number(column)
    if index is None:  # every cell reads as a number once trimmed
        floats = pa.chunked_array([_cast_text(chunk, as_type) for chunk in column.chunks], as_type)
        return np.concatenate(_numpy_chunks(floats, "float"))
    where = f"{layout.name}: row {layout.first_row + row + 1} (line {line_no}), column {layout.names[index]!r}"
    if not text.strip():
        raise DataError(f"{where}: empty cell; fill it in")
    raise DataError(
        f"{where}: cannot read {_shorten(text)!r} as a number; fix the cell (a table of more than "
        f"{WIDE_FIELDS} columns is read a line at a time, and every cell must be a number)"
    )


# --- a text file's rows found again, for the messages of later checks ----------------------------


_header_of: dict[str, bool | None] = {}
"""The ``--header``/``--no-header`` (None: neither) each text table was read under, by name, so that
``_layout_again`` finds its rows again as they were read: set by ``_find_layout`` when a file is read, and by
``remember_header`` for files a forked child reads. Keyed by file, one command's option never leaks into
another's files (a later command, or a test, reading a file of its own)."""


def remember_header(header: bool | None, names: Iterable[str | None]) -> None:
    """Note that the text tables ``names`` are read under ``--header``/``--no-header`` ``header``."""
    for name in names:
        if name is not None:
            _header_of[name] = header


def _layout_again(name: str) -> _Layout | None:
    """The layout of the text table file ``name`` found again, as the command read it, to explain a
    problem; None for other forms, standard input (read once) or a file that no longer reads as a table."""
    extension = os.path.splitext(name)[1].lower()
    if extension not in _TEXT_DELIMITERS or not os.path.isfile(name):  # a pipe cannot be read again
        return None
    try:
        data = _map_file(name)
        data = _lf_line_ends(data) if _has_lone_cr(data) else data
        return _find_layout(name, data, _TEXT_DELIMITERS[extension], _header_of.get(name), again=True)
    except DataError:
        return None


def cell_as_written(name: str, row: int, column: str) -> str | None:
    """The text of a cell of a text table as the file has it: data row ``row`` (0-based), column ``column``.

    None for other forms, standard input (read once) or a file that no longer
    has the cell. It scans the file line by line: it runs only to quote a
    value in an error message ("99999999999999999999" rather than the
    -9223372036854775808 it would wrap to, or the 1e+20 a float makes of it).
    """
    layout = _layout_again(name)
    if layout is None or column not in layout.names:
        return None
    line = next(itertools.islice(_data_lines(layout), row, None), None)
    if line is None:
        return None
    fields = _split_fields(line[1].decode("utf-8", errors="replace").rstrip("\r"), layout.delimiter)
    index = layout.names.index(column) + layout.index_column
    return fields[index].strip() if index < len(fields) else None


def line_of_row(name: str, row: int) -> int | None:
    """The 1-based line of the text table file ``name`` that holds data row ``row`` (0-based), for a
    message; None when ``name`` is no text file that can be read again (see ``_layout_again``)."""
    layout = _layout_again(name)
    return None if layout is None else _line_of_row(layout, row)
