"""A text table a piece at a time (``iter_row_chunks``): its bytes read once from start to end, so a pipe
streams as a file does, in pieces of whole lines that pyarrow parses on every core, with the values and the
errors a whole read (``text``) gives.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

from losscli.errors import DataError
from losscli.io.arrow import NUMBER_PATTERN, _stack_columns, first_number
from losscli.io.files import _WHITESPACE, STDIN, STDIN_NAME, _open_stream, _read_stream, _stdin
from losscli.io.source import Source, _shorten, rechunk, resolve_columns, row_slices, select_columns
from losscli.io.text import (
    _LINE_END_BYTES,
    _SKIPPED_LINE,
    _UTF8_BOM,
    WIDE_FIELDS,
    _as_integers,
    _convert_text_column,
    _data_lines,
    _find_layout,
    _first_non_number,
    _has_lone_cr,
    _is_data_line,
    _Layout,
    _lf_line_ends,
    _line_of_row,
    _parse_body,
    _raw_column,
    _read_wide,
    _split_fields,
    _tab_separated,
)

if TYPE_CHECKING:
    import pyarrow as pa


def _text_chunks(
    path: str,
    delimiter: str | None,
    chunk_rows: int,
    selectors: Sequence[str] | None,
    exclude: Sequence[str],
    option: str,
    float_dtype: type,
    header: bool | None,
    stdin: BinaryIO | None,
    regular: bool,
) -> tuple[Source, Iterator[np.ndarray]]:
    """``iter_row_chunks`` of a text table: its bytes are read once, so a pipe streams as a file does.

    The first blocks, through the second data line, give the layout; the
    body follows from there. ``regular`` says whether ``path`` is a regular
    file, whose lines can be counted again when an error needs one.
    """
    if path == STDIN:
        name, handle = STDIN_NAME, stdin if stdin is not None else _stdin()
    else:
        name, handle = path, _open_stream(path)
    lone_cr, blocks = _text_blocks(name, handle, close=path != STDIN)
    head = _text_head(blocks)
    layout = _find_layout(name, head, delimiter, header)
    if layout.n_fields > WIDE_FIELDS:
        layout.data = head + b"".join(blocks)  # the head's offsets hold in the whole
        source = _read_wide(layout, float_dtype)
        return source, row_slices(select_columns(source, selectors, exclude=exclude, option=option), chunk_rows)
    layout.path = path if regular and not lone_cr else None  # where _LineCounter finds the lines, by offset
    text = _text_in_first_row(layout) if selectors is None else frozenset()
    source = Source(name, np.empty((0, len(layout.names)), float_dtype), layout.names, notes=layout.notes)
    source.text_columns = text
    indices = resolve_columns(source, selectors, exclude=exclude, option=option)
    left_out = sorted(text.difference(indices, (source.columns.index(c) for c in exclude if c in source.columns)))
    body = itertools.chain([head[layout.body_start :]], blocks)
    return source, rechunk(_csv_blocks(layout, body, indices, float_dtype, option, left_out), chunk_rows)


def _text_in_first_row(layout: _Layout) -> frozenset[int]:
    """The columns whose first data row holds text that is no number: a streamed table's text columns (a
    whole read looks at every row), left out of a default choice of columns and checked in every piece."""
    import re

    first = next(_data_lines(layout), None)
    if first is None:
        return frozenset()
    fields = _split_fields(first[1].decode("utf-8", errors="replace").rstrip("\r"), layout.delimiter)
    fields = fields[layout.index_column :]
    number = re.compile(NUMBER_PATTERN, re.IGNORECASE)
    return frozenset(i for i, cell in enumerate(fields) if cell.strip() and not number.match(cell))


_PIECE_BYTES = 4 << 20
"""Streamed text is parsed this many bytes (whole lines) at a time, each piece by every core."""


def _text_blocks(name: str, handle: BinaryIO, *, close: bool) -> tuple[bool, Iterator[bytes]]:
    """Whether ``handle``'s text has lone-CR line ends, and its bytes in blocks, those line ends made newlines.

    Whether it has them is judged on its first ``_LINE_END_BYTES``, read
    here, as ``read_source`` judges; a CRLF cut between two blocks then reads
    as an extra blank line, which is skipped. Those first bytes come in
    smaller blocks: the layout is found in them, and they are held while the
    rest is read in blocks of ``_PIECE_BYTES``. ``close`` closes ``handle``
    at the end.
    """
    first: list[bytes] = []
    size = min(_LINE_END_BYTES, _PIECE_BYTES)
    try:
        while sum(map(len, first)) <= _LINE_END_BYTES and (block := _read_stream(name, handle, size)):
            first.append(block)
    except DataError:
        if close:
            handle.close()
        raise
    lone_cr = _has_lone_cr(b"".join(first))

    def blocks() -> Iterator[bytes]:
        try:
            for block in itertools.chain(first, iter(lambda: _read_stream(name, handle, _PIECE_BYTES), b"")):
                yield _lf_line_ends(block) if lone_cr else block
        finally:
            if close:
                handle.close()

    return lone_cr, blocks()


def _text_head(blocks: Iterator[bytes]) -> bytes:
    """The first of ``blocks`` joined, through the end of the second data line (or all of them)."""
    head = bytearray()
    pos = found = 0
    for block in blocks:
        head += block
        if not found and head.startswith(_UTF8_BOM):  # a comment after it is a comment
            pos = max(pos, len(_UTF8_BOM))
        while found < 2 and (end := head.find(b"\n", pos)) >= 0:
            found += _is_data_line(head[pos:end])
            pos = end + 1
        if found == 2:
            break
    return bytes(head)


def _csv_blocks(
    layout: _Layout,
    body: Iterator[bytes],
    indices: list[int],
    float_dtype: type,
    option: str,
    text_columns: Sequence[int] = (),
) -> Iterator[np.ndarray]:
    """The selected columns of a text table's ``body``, a piece of whole lines at a time, as a whole read gives them.

    ``body`` holds the table's bytes from ``layout.body_start`` on, in blocks.
    pyarrow's streaming reader parses on one thread; its multithreaded reader
    needs the whole input. So the bytes are cut into pieces of whole lines
    (values never hold a newline: pyarrow's default), and each is parsed by
    the multithreaded reader with the selected columns typed as
    ``float_dtype``: memory stays a piece's, parsing uses every core. A piece
    holding a ``#`` loses its comment lines first, and one of a table
    separated by runs of spaces becomes tab-separated. A piece that does not
    parse so (a bad or empty cell, true/false, a line of spaces, a row of the
    wrong width) is read again as a whole read reads a file
    (``_read_piece``): its values, or the error a whole read gives, with the
    file's row and line. Whole numbers come back as int64 as they do read
    whole, block by block. The ``text_columns``, left out of a default choice
    as text (``_text_in_first_row``), are read too, as text: a number in one
    of them is an error, since a whole read would not have left it out.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{index}" for index in range(layout.n_fields)]
    wanted = [names[index + layout.index_column] for index in indices]
    texts = {names[index + layout.index_column]: index for index in text_columns}
    whitespace = layout.delimiter == _WHITESPACE
    options = dict(
        read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 20, use_threads=True),
        parse_options=pcsv.ParseOptions(
            delimiter="\t" if whitespace else layout.delimiter,
            quote_char=False if whitespace else '"',
            ignore_empty_lines=True,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={
                **dict.fromkeys(texts, pa.string()),
                **dict.fromkeys(wanted, pa.from_numpy_dtype(float_dtype)),
            },
            include_columns=list(dict.fromkeys([*wanted, *texts])),  # a column chosen twice is read once
            null_values=[""],
            strings_can_be_null=False,
        ),
    )
    booleans = _Booleans(layout, indices, option)
    lines = _LineCounter(layout)
    rows, offset = 0, layout.body_start
    for number, piece in enumerate(_whole_lines(body)):
        if number == 0 and layout.header_line:
            piece, offset = piece[1:], offset + 1  # the newline that ends the header
        text = _SKIPPED_LINE.sub(b"", b"\n" + piece) if b"#" in piece else piece
        if whitespace:
            text = _tab_separated(text)
        try:
            table = pcsv.read_csv(pa.py_buffer(text or b"\n"), **options)  # pyarrow refuses no bytes at all
        except pa.ArrowInvalid:
            table = None
        if table is not None and not any(table.column(name).null_count for name in wanted):
            for name, index in texts.items():
                _check_text(layout, table.column(name), index, rows, option)
            for batch in table.to_batches():
                block = _batch_array([batch.column(name) for name in wanted], float_dtype)
                yield booleans.numbers(block, float_dtype)
                rows += len(block)
        elif piece.strip():
            line = lines.at(offset)
            block = _read_piece(layout, piece, line, rows, indices, float_dtype, option, booleans, text_columns)
            yield booleans.numbers(block, float_dtype)
            rows += len(block)
        lines.passed(piece)
        offset += len(piece)


def _check_text(layout: _Layout, cells: pa.ChunkedArray, index: int, rows: int, option: str) -> None:
    """A text column of a streamed table (the piece's cells after ``rows`` data rows) must hold no number."""
    found = first_number(cells)
    if found is not None:
        raise DataError(
            f"{layout.name}: column {layout.names[index]!r} holds text in its first row, so it was left out of the "
            f"default columns, but row {rows + found + 1} holds the number {_shorten(str(cells[found]))!r}: "
            f"name the columns with {option}"
        )


class _LineCounter:
    """The line number at a byte offset of a text table's body, counted only when asked.

    Counting newlines as the pieces go by would cost a pass over every byte;
    only pieces read again (``_read_piece``) need their first line, so for a
    file the count goes on from the last offset asked for, over the file's
    bytes. A stream (a pipe, standard input, text whose line ends were made
    newlines: ``layout.path`` None) cannot be read again: its pieces are
    counted as they go by.
    """

    def __init__(self, layout: _Layout) -> None:
        self.path = layout.path
        self.offset = layout.body_start + 1 if layout.header_line else layout.body_start
        self.line = layout.first_line

    def at(self, offset: int) -> int:
        """The line starting at ``offset`` (a line start at or after the last offset asked for)."""
        if self.path is not None:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                while self.offset < offset:
                    block = handle.read(min(1 << 20, offset - self.offset))
                    self.line += block.count(b"\n")
                    self.offset += len(block)
        return self.line

    def passed(self, piece: bytes) -> None:
        """Take in a piece the reader has gone past: counted now for a stream, when asked for a file."""
        if self.path is None:
            self.line += piece.count(b"\n")


def _read_piece(
    layout: _Layout,
    piece: bytes,
    line: int,
    rows: int,
    indices: list[int],
    float_dtype: type,
    option: str,
    booleans: _Booleans,
    text_columns: Sequence[int] = (),
) -> np.ndarray:
    """The selected columns of a piece of a streamed text file that starts at ``line``, after ``rows`` data rows,
    read as a whole read reads a file: its values, or the error a whole read gives (rows and lines the file's)."""
    import pyarrow as pa

    # The piece as a body of its own: after a newline that stands for the line before it, as after a header.
    data, header_line = (b"\n" + piece, line - 1) if line > 1 else (piece, None)
    part = dataclasses.replace(
        layout,
        data=data,
        header_line=header_line,
        first_line=line,
        body_start=0,
        path=None,
        first_row=rows,
        fields_from=layout.fields_reference,
        hex_prefix=None,
    )
    table = _parse_body(part)
    for index in text_columns:
        _check_text(layout, table.column(index), index, rows, option)
    values: list[list[np.ndarray] | None] = []
    for index in indices:
        chunks, problem = _convert_text_column(part, index, table.column(index))
        if problem is not None:
            raise DataError(f"{layout.name}: {problem.problem}; {problem.remedy} {option}")
        values.append(_as_integers(chunks, float_dtype))
        if pa.types.is_boolean(table.column(index).type):
            booleans.seen(part, index)
    array, _ = _stack_columns(values, table.num_rows, float_dtype)
    return array[:, 0] if len(indices) == 1 else array


class _Booleans:
    """Keeps true/false cells of a streamed text table to the whole read's rule, and restores integers.

    Read whole, a column whose every cell is true, false, 1 or 0 (as pyarrow
    infers it) reads as 1 and 0, but one that also holds another number is
    text: an error at its first true or false. A piece of the stream sees its
    own cells only, so for each selected column this remembers the first
    true/false cell met and whether a number other than 0 and 1 was, and
    raises the whole read's error once both are.
    """

    def __init__(self, layout: _Layout, indices: list[int], option: str) -> None:
        self.layout, self.indices, self.option = layout, indices, option
        self.first: dict[int, tuple[int, int, str]] = {}  # column -> (row, line, text) of its first true/false
        self.other: set[int] = set()  # columns holding a number other than 0 and 1

    def seen(self, part: _Layout, index: int) -> None:
        """Note the first true/false cell of column ``index`` of a piece (``part``) read as booleans."""
        if index in self.first:
            return
        row, text = _first_non_number(_raw_column(part, index))
        self.first[index] = (part.first_row + row, _line_of_row(part, row), text)
        self._check(index)

    def numbers(self, block: np.ndarray, float_dtype: type) -> np.ndarray:
        """``block`` (rows of the selected columns) as int64 when every value is a whole number ``float_dtype``
        holds exactly, as a whole read gives it; noting the columns with numbers other than 0 and 1."""
        integer = True
        limit = 2 ** (np.finfo(float_dtype).nmant + 1)
        for position, column in enumerate(block.T if block.ndim == 2 else [block]):
            if column.dtype.kind == "f" and not (_whole(column[:64]) and _whole(column)):
                integer = False
                self._other(self.indices[position])
                continue
            low, high = column.min(), column.max()
            integer = integer and -limit < low and high < limit  # as _as_integers
            if low < 0 or high > 1:
                self._other(self.indices[position])
        return block.astype(np.int64) if integer and block.dtype.kind == "f" else block

    def _other(self, index: int) -> None:
        if index not in self.other:
            self.other.add(index)
            self._check(index)

    def _check(self, index: int) -> None:
        if index in self.first and index in self.other:
            row, line, text = self.first[index]
            raise DataError(
                f"{self.layout.name}: row {row + 1} (line {line}), column {self.layout.names[index]!r}: cannot read "
                f"{_shorten(text)!r} as a number; fix the cell or choose numeric columns with {self.option}"
            )


def _whole(values: np.ndarray) -> bool:
    """Whether every value is a whole number (NaN is not)."""
    return bool(np.array_equal(np.floor(values), values))


def _whole_lines(blocks: Iterator[bytes]) -> Iterator[bytes]:
    """The bytes of ``blocks`` in pieces of about a block that end at a newline (the last one at the end)."""
    tail = b""
    for block in blocks:
        cut = block.rfind(b"\n") + 1
        if not cut:
            tail += block
            continue
        yield tail + block[:cut]
        tail = block[cut:]
    if tail:
        yield tail


def _batch_array(columns: list[pa.Array], float_dtype: type) -> np.ndarray:
    """One record batch's columns as (rows,) for one column or (rows, k), without pandas."""
    dtype = np.dtype(float_dtype)
    views = [
        np.frombuffer(c.buffers()[1], dtype=dtype, count=len(c), offset=c.offset * dtype.itemsize) for c in columns
    ]
    return views[0] if len(views) == 1 else np.column_stack(views)
