"""Read prediction and label files into numpy arrays (SPEC §2).

Text tables (.csv, .tsv, .txt, ``-`` for standard input) are parsed by
``pyarrow.csv`` and turned into numpy through the Arrow buffers, so neither
pandas nor a per-line Python loop is involved on the normal path. The slow
Python scans below run only to explain a problem: which row and line hold the
bad cell, which line has the wrong number of fields.

A column that cannot be read as numbers does not fail the whole file: real
tables carry id or name columns next to the numbers. Its problem is kept in
``Source.unreadable`` and raised by :func:`select_columns` when the column is
selected, with the option that selected it, so "choose numeric columns with
--pred-col" is a fix that works. Rows with the wrong number of fields, empty
files and unreadable files fail at once.

``import losscli.io.loading`` imports neither pandas nor pyarrow; pyarrow is
imported inside the functions that need it.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import dataclasses
import errno
import itertools
import lzma
import math
import mmap
import os
import re
import stat
import sys
import tokenize
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

import numpy as np

from losscli.errors import DataError
from losscli.terminal import counted

# pyarrow's allocator (mimalloc) keeps freed memory for a while before giving it
# back; a parse of a large file frees most of what it allocated, so purging at
# once keeps the peak resident memory down (about 55 MB on a 10M-row pair).
# Read when pyarrow loads, hence set before any import of it.
os.environ.setdefault("MIMALLOC_PURGE_DELAY", "0")

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

__all__ = ["ColumnProblem", "Source", "read_source", "resolve_columns", "select_columns", "split_column_options"]

STDIN = "-"
STDIN_NAME = "<stdin>"
SUPPORTED_FORMS = ".csv, .tsv, .txt, .npy, .npz, .parquet (or .pq), or - for CSV on standard input"

_WHITESPACE = " "  # delimiter meaning "runs of spaces and tabs"
_TEXT_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": _WHITESPACE}
_PARQUET_EXTENSIONS = (".parquet", ".pq")
_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_LISTED_COLUMNS = 20
_MAX_CELL_CHARS = 40

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


class ColumnProblem(NamedTuple):
    """Why a table column cannot be used; ``select_columns`` raises it with its option."""

    problem: str  # e.g. "row 3 (line 5), column 'score': cannot read 'abc' as a number"
    remedy: str  # completed with the option name, e.g. "fix the cell or choose numeric columns with"


@dataclass
class Source:
    """One loaded input file."""

    name: str
    """The path as the user typed it, or ``"<stdin>"`` for ``-``."""
    array: np.ndarray
    """.npy/.npz: the array as stored (any shape, memory-mapped for .npy);
    tables: 2-D (rows, columns), possibly read-only. An unreadable column
    holds NaN here: select through :func:`select_columns`, which raises its
    problem."""
    columns: list[str] | None
    """Tables: header names, or "0", "1", ... without a header; arrays: None."""
    integer_columns: frozenset[int] = frozenset()
    """Table columns whose every value is an integer. ``array`` is float64 when
    such columns sit next to float ones; ``select_columns`` gives them back as
    int64."""
    unreadable: dict[int, ColumnProblem] = field(default_factory=dict)
    """Table columns that are not numbers (a text cell, an empty cell)."""
    notes: list[str] = field(default_factory=list)
    """Things the reader did that the user should hear of once (e.g. a pandas index column left out)."""


def split_column_options(values: Sequence[str] | None) -> list[str] | None:
    """Flatten repeated and comma-separated column options: ``["a,b", "c"]`` -> ``["a", "b", "c"]``.

    ``None`` or ``[]`` (option not given) gives ``None``, meaning "all columns".
    Items are stripped and empty items dropped, so ``"a, b,"`` is ``a`` and ``b``.
    """
    if not values:
        return None
    return [item.strip() for value in values for item in str(value).split(",") if item.strip()]


def read_source(
    path: str,
    *,
    key: str | None = None,
    key_option: str = "--pred-key",
    stdin: BinaryIO | None = None,
    float_dtype: type = np.float64,
    header: bool | None = None,
) -> Source:
    """Load one input file (SPEC §2); every problem with it is a ``DataError``.

    ``key`` picks an array of an ``.npz`` archive; ``key_option`` is the option
    that sets it, named in error messages. ``stdin`` replaces
    ``sys.stdin.buffer`` when ``path`` is ``"-"``. Tables with non-integer
    columns come back as ``float_dtype`` (float32 saves a copy when the
    computation runs in float32); integer columns stay exact either way.
    ``header`` says whether a text table's first line is its header (None:
    decide by its content, see ``_is_header``). A pipe or other file that is
    not a regular one (``/dev/stdin``, ``<(...)``) is read once, as a stream.
    """
    if path == STDIN:
        _refuse_key(STDIN_NAME, key, key_option)
        data = _read_stream(STDIN_NAME, stdin if stdin is not None else _stdin())
        return _read_text(STDIN_NAME, data, None, header=header, float_dtype=float_dtype)

    extension = os.path.splitext(path)[1].lower()
    if not _is_regular_file(path, extension):
        _refuse_key(path, key, key_option)
        with _open_stream(path) as handle:
            data = _read_stream(path, handle)
        return _read_text(path, data, _TEXT_DELIMITERS.get(extension), header=header, float_dtype=float_dtype)
    _check_file(path)
    if extension == ".npz":
        return _read_npz(path, key, key_option)
    _refuse_key(path, key, key_option)
    if extension in _TEXT_DELIMITERS:
        return _read_text(
            path, _map_file(path), _TEXT_DELIMITERS[extension], path=path, header=header, float_dtype=float_dtype
        )
    if extension == ".npy":
        return _read_npy(path)
    if extension in _PARQUET_EXTENSIONS:
        return _read_parquet(path, float_dtype)
    raise _unsupported(path, extension)


def select_columns(
    source: Source,
    selectors: Sequence[str] | None,
    *,
    exclude: Sequence[str] = (),
    option: str = "--pred-col",
) -> np.ndarray:
    """Pick columns of a loaded file by name or 0-based index (negative counts from the end).

    ``selectors=None`` takes every column except ``exclude`` (explicit
    selectors are taken as given, ``exclude`` is ignored); an array with
    neither is returned unchanged, whatever its shape. One selected column
    gives shape ``(N,)``, several ``(N, C)`` in the order given. ``option``
    is the command-line option named in error messages.
    """
    if selectors is None and not exclude and source.columns is None:
        return source.array
    return _checked_columns(source, resolve_columns(source, selectors, exclude=exclude, option=option), option)


def resolve_columns(
    source: Source,
    selectors: Sequence[str] | None,
    *,
    exclude: Sequence[str] = (),
    option: str = "--pred-col",
) -> list[int]:
    """The column indices :func:`select_columns` takes, in its order (same arguments, same errors).

    An array taken whole (no selectors, no exclude) gives the indices of its
    columns when it is 2-D and ``[]`` otherwise. Unreadable columns are not
    checked here.
    """
    if selectors is None and not exclude and source.columns is None:
        return list(range(source.array.shape[1])) if source.array.ndim == 2 else []
    _check_selectable(source, option)
    if selectors is None:
        excluded = {_resolve_column(source, selector, option) for selector in exclude}
        every = range(source.array.shape[1])  # millions, for one long line: loop in Python only to exclude
        indices = [index for index in every if index not in excluded] if excluded else list(every)
        if not indices:
            raise DataError(
                f"{source.name}: no column is left for {option} once {_quoted(exclude)} "
                f"{'is' if len(exclude) == 1 else 'are'} excluded; give the file more columns"
            )
        return indices
    if not selectors:
        raise DataError(f"{source.name}: {option} names no column; give a column name or a 0-based index")
    return [_resolve_column(source, selector, option) for selector in selectors]


def read_as_text(name: str) -> bool:
    """Whether the input named ``name`` is a text table, whose numbers are parsed in the run's precision."""
    return name == STDIN_NAME or os.path.splitext(name)[1].lower() in _TEXT_DELIMITERS or is_stream(name)


header_option: bool | None = None
"""The command's ``--header``/``--no-header`` (None: neither), under which ``_layout_again`` finds a file's
rows again; the functions that gather a command's inputs set it (``remember_header``)."""


def remember_header(header: bool | None) -> None:
    """Note the command's ``--header``/``--no-header``, for the messages that name a row's line."""
    global header_option
    header_option = header


def _layout_again(name: str) -> _Layout | None:
    """The layout of the text table file ``name`` found again, as the command read it, to explain a
    problem; None for other forms, standard input (read once) or a file that no longer reads as a table."""
    extension = os.path.splitext(name)[1].lower()
    if extension not in _TEXT_DELIMITERS or not os.path.isfile(name):  # a pipe cannot be read again
        return None
    try:
        data = _map_file(name)
        data = _lf_line_ends(data) if _has_lone_cr(data) else data
        return _find_layout(name, data, _TEXT_DELIMITERS[extension], header_option)
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


# --- files ---------------------------------------------------------------------------


def is_stream(path: str) -> bool:
    """Whether ``path`` is ``-``, a pipe or a device (neither a regular file nor a directory): read once only."""
    if path == STDIN:
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _is_regular_file(path: str, extension: str) -> bool:
    """Whether ``path`` is a regular file; False for a pipe or device that can be read as a text stream.

    Only looks (``stat``), never opens: opening a pipe takes its data's place,
    and opening it twice waits for a writer that is gone. A missing path, a
    directory, or a stream in a form that needs a regular file is a DataError.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{path}: is a directory, not a file; give the path of a file inside it")
    if stat.S_ISREG(mode):
        return True
    if extension in (".npy", ".npz", *_PARQUET_EXTENSIONS):
        raise DataError(
            f"{path}: is a pipe or a device, not a regular file, and {extension} files are read from regular "
            "files only; save it to a file first, or send CSV through the pipe"
        )
    if extension and extension not in _TEXT_DELIMITERS:
        raise _unsupported(path, extension)
    return False


def _unsupported(path: str, extension: str) -> DataError:
    kind = f"file type {extension!r}" if extension else "file without an extension"
    return DataError(f"{path}: unsupported {kind}; use {SUPPORTED_FORMS}")


def _check_file(path: str) -> None:
    """Fail early, with the reason, when the regular file ``path`` cannot be opened for reading."""
    try:
        with open(path, "rb"):
            pass
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not a file; give the path of a file inside it") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _map_file(path: str) -> bytes | mmap.mmap:
    """The file's bytes, memory-mapped when possible so a large file costs page cache only."""
    try:
        with open(path, "rb") as handle:
            try:
                return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file, or a file system without mmap
                return handle.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _open_stream(path: str) -> BinaryIO:
    """``path`` opened once for reading as a stream (a pipe's writer may be waiting for it)."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None


_STDIN_CLOSED = (
    "standard input is closed; send the data through it (e.g. cat p.csv | losscli ... -) or give a file path "
    "instead of -"
)


def _stdin() -> BinaryIO:
    """Standard input as bytes; a DataError when the process was started with it closed (``<&-``)."""
    if sys.stdin is None:
        raise DataError(f"{STDIN_NAME}: {_STDIN_CLOSED}")
    return getattr(sys.stdin, "buffer", sys.stdin)


def _read_stream(name: str, handle: BinaryIO, size: int = -1) -> bytes:
    """Up to ``size`` bytes of ``handle`` (all of them for -1), as bytes; read errors are DataErrors."""
    try:
        data = handle.read(size)
    except OSError as exc:
        if exc.errno == errno.EBADF and name == STDIN_NAME:  # file descriptor 0 closed, or open for writing only
            raise DataError(f"{name}: {_STDIN_CLOSED}") from None
        raise DataError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return data.encode() if isinstance(data, str) else data


def _refuse_key(name: str, key: str | None, key_option: str) -> None:
    if key is not None:
        raise DataError(f"{name}: {key_option} {key} applies to .npz archives only; drop it or give an .npz file")


# --- .npy / .npz -----------------------------------------------------------------------


def _read_npy(path: str) -> Source:
    with open(path, "rb") as handle:
        if handle.read(4) == b"PK\x03\x04":
            raise DataError(f"{path}: holds an .npz archive, not a .npy array; rename it to .npz")
        handle.seek(0)
        header = _npy_header(path, handle)
    _check_array_dtype(path, header.dtype)
    _check_not_empty(path, header.shape)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy file ({exc}); save it again with numpy.save") from None
    return Source(path, array, None)


class _NpyHeader(NamedTuple):
    """What an .npy stream's header declares."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    data_start: int  # bytes before the array's data

    @property
    def data_bytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def _npy_header(name: str, handle: BinaryIO) -> _NpyHeader:
    """The header of an .npy stream, read without loading (or unpickling) anything."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            # Version 3 differs from 2 only in encoding field names as UTF-8 rather
            # than Latin-1; read as Latin-1 the header still gives the dtype's kind.
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    except (ValueError, EOFError, SyntaxError, TypeError, tokenize.TokenError) as exc:  # a damaged header dict
        raise DataError(f"{name}: not a valid .npy file ({exc}); save it again with numpy.save") from None
    return _NpyHeader(tuple(shape), fortran_order, dtype, handle.tell())


def _check_array_dtype(name: str, dtype: np.dtype) -> None:
    if dtype.hasobject:
        raise DataError(
            f"{name}: holds pickled Python objects (dtype object), and losscli never unpickles files; "
            "save a numeric array instead (e.g. numpy.save(path, array.astype(float)))"
        )
    if dtype.kind == "c":
        raise DataError(f"{name}: holds complex numbers ({dtype}); losses take real numbers, save the real part")
    if dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None:
        if dtype.fields is not None:
            what = "a structured array"
        else:
            what = {"U": "text", "S": "bytes", "M": "dates", "m": "time spans"}.get(dtype.kind, "values")
            what = f"{what} (dtype {dtype})"
        raise DataError(f"{name}: holds {what}, not numbers; save a numeric (int, float or bool) array")


def check_array(name: str, dtype: np.dtype, shape: tuple[int, ...]) -> None:
    """An array losscli can compute with: real numbers (no objects, text or dates), at least one value."""
    _check_array_dtype(name, dtype)
    _check_not_empty(name, shape)


def _check_not_empty(name: str, shape: tuple[int, ...]) -> None:
    """An array with no values (a zero anywhere in its shape) is an error, whatever the command."""
    if 0 in shape:
        what = "rows" if shape[0] == 0 else "columns" if len(shape) == 2 else "values"
        raise DataError(f"{name}: an empty array of shape {shape} (no {what}); give at least one value")


NPZ_INFLATE_LIMIT = 1 << 30
"""Bytes a compressed .npz array may inflate to when it is read whole.

A few megabytes of zeros deflate from gigabytes: past this, the array is
refused rather than inflated blindly (``--chunk-size`` streams it, an .npy is
memory-mapped). The same size past which ``compute`` streams large files."""


_ZIP_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError)
"""What reading a damaged archive member raises (zlib.error, LZMAError: a compressed stream that is corrupt)."""


def _read_npz(path: str, key: str | None, key_option: str) -> Source:
    with _npz_member(path, key, key_option) as (described, handle, header, info):
        if info.compress_type != zipfile.ZIP_STORED and header.data_bytes > NPZ_INFLATE_LIMIT:
            raise DataError(
                f"{described} inflates to {_size_text(header.data_bytes)} (shape {header.shape}, {header.dtype}) "
                f"from {_size_text(info.compress_size)} compressed, more than the {_size_text(NPZ_INFLATE_LIMIT)} "
                "losscli inflates in memory; stream it with --chunk-size (losses that decompose over samples), "
                "or save it with numpy.save as an .npy file, which is read through a memory map"
            )
        try:
            handle.seek(0)  # read_array reads the header again: rewinding inflates it again, a few bytes
            array = np.lib.format.read_array(handle, allow_pickle=False)
        except (ValueError, *_ZIP_READ_ERRORS) as exc:
            raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
    return Source(path, array, None)


@contextlib.contextmanager
def _npz_member(
    path: str, key: str | None, key_option: str
) -> Iterator[tuple[str, BinaryIO, _NpyHeader, zipfile.ZipInfo]]:
    """The chosen array of an .npz archive, open just past its header, once the header is checked.

    Gives the array's description for messages (``"PATH: array 'x'"``), the
    open member, its header and its zip entry. Nothing but the header is
    inflated: the entry's declared size must be the header's plus
    shape x itemsize, or the archive is corrupt (a member that claims a small
    array can then not inflate to a large one).
    """
    with open(path, "rb") as handle:
        if handle.read(6) == b"\x93NUMPY":
            raise DataError(f"{path}: holds a single .npy array, not an .npz archive; rename it to .npy")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc}); save it again with numpy.savez") from None
    with archive:
        members = {name.removesuffix(".npy"): name for name in archive.namelist()}  # as numpy.load names them
        if not members:
            raise DataError(f"{path}: the archive holds no arrays")
        listed = ", ".join(members)
        if key is None:
            if len(members) > 1:
                raise DataError(
                    f"{path}: holds {len(members)} arrays ({listed}); pass {key_option} NAME to choose one"
                )
            key = next(iter(members))
        elif key not in members:
            raise DataError(f"{path}: no array {key!r} in the archive (arrays: {listed}); fix {key_option}")
        described = f"{path}: array {key!r}"
        info = archive.getinfo(members[key])
        try:
            member = archive.open(info)
        except (NotImplementedError, RuntimeError, *_ZIP_READ_ERRORS) as exc:
            raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
        with member:
            try:
                header = _npy_header(described, member)
            except _ZIP_READ_ERRORS as exc:
                raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
            _check_array_dtype(described, header.dtype)
            _check_not_empty(described, header.shape)
            if info.file_size != header.data_start + header.data_bytes:
                raise DataError(
                    f"{described} is corrupt: its header declares shape {header.shape} of {header.dtype} "
                    f"({header.data_start + header.data_bytes} bytes with the header), but the archive's entry "
                    f"holds {info.file_size} bytes; save the archive again"
                )
            yield described, member, header, info


def _size_text(n_bytes: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} bytes"


# --- Parquet -----------------------------------------------------------------------------


def _parquet_errors() -> tuple[type[BaseException], ...]:
    """What pyarrow raises reading a damaged Parquet file: its errors, OSError, and ValueError (a
    UnicodeDecodeError for a column name that is not UTF-8)."""
    import pyarrow as pa

    return (pa.ArrowException, OSError, ValueError)


def _read_parquet(path: str, float_dtype: type = np.float64) -> Source:
    parquet, names, notes = _open_parquet(path)
    damaged: dict[int, str] = {}
    with parquet:
        try:
            # ParquetFile.read rather than pq.read_table: read_table goes through
            # pyarrow.dataset, whose import pulls in pandas.
            table = parquet.read(columns=names, use_threads=True, use_pandas_metadata=False)
        except _parquet_errors():
            table, damaged = _read_parquet_columns(parquet, names)
    source = _parquet_source(path, table, float_dtype)
    for index, reason in damaged.items():  # an error only if chosen, as when streamed (which reads only those)
        source.unreadable[index] = _damaged_column(names[index], reason)
    source.notes.extend(notes)
    return source


def _damaged_column(name: str, reason: str) -> ColumnProblem:
    return ColumnProblem(
        f"column {name!r} is not readable Parquet ({reason})", "write the file again, or choose other columns with"
    )


def _first_damaged_column(parquet: pq.ParquetFile, names: list[str]) -> tuple[str, str] | None:
    """The first of ``names`` whose pages fail to read (read a batch at a time), or read with another number
    of rows than the file's metadata says, and why; None if none does."""
    expected = parquet.metadata.num_rows
    for name in names:
        try:
            rows = 0
            for batch in parquet.iter_batches(batch_size=1 << 16, columns=[name], use_pandas_metadata=False):
                rows += batch.num_rows
        except _parquet_errors() as exc:
            return name, str(exc).strip()
        if rows != expected:
            return name, _wrong_length(rows, expected)
    return None


def _wrong_length(rows: int, expected: int) -> str:
    return f"it holds {counted(rows, 'row')} where the file's metadata says {expected}"


def _read_parquet_columns(parquet: pq.ParquetFile, names: list[str]) -> tuple[pa.Table, dict[int, str]]:
    """A damaged file's columns read one at a time: the table (nulls for a damaged column) and why each failed."""
    import pyarrow as pa

    rows = parquet.metadata.num_rows
    columns, damaged = [], {}
    for index, name in enumerate(names):
        try:
            column = parquet.read(columns=[name], use_pandas_metadata=False).column(0)
            if len(column) != rows:
                raise pa.ArrowInvalid(_wrong_length(len(column), rows))
            columns.append(column)
        except _parquet_errors() as exc:
            columns.append(pa.nulls(rows, pa.float64()))
            damaged[index] = str(exc).strip()
    return pa.Table.from_arrays(columns, names=names), damaged


def _open_parquet(path: str) -> tuple[pq.ParquetFile, list[str], list[str]]:
    """The open file, the names of its data columns, and notes on the columns left out.

    pandas' ``df.to_parquet`` stores an index other than the default range as
    a column (``__index_level_0__``, or the index's name) that its metadata
    lists in ``index_columns``; ``pd.read_parquet`` makes it the index again,
    so it is no data: it is left out, with a note. A file without a row or a
    data column is an error.
    """
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        schema = parquet.schema_arrow
    except _parquet_errors() as exc:
        raise DataError(f"{path}: not a readable Parquet file ({exc})") from None
    index = _pandas_index_columns(schema)
    names = [name for name in schema.names if name not in index]
    notes = [
        f"{path}: column {name!r} is pandas' index (as df.to_parquet writes it), not data: left out" for name in index
    ]
    rows = parquet.metadata.num_rows
    if not names or not rows:
        parquet.close()
        raise DataError(
            f"{path}: the Parquet file holds no data ({counted(rows, 'row')}, {counted(len(names), 'column')}"
            + (f" besides pandas' index {_quoted(index)}" if index else "")
            + "); give a file with at least one row of numbers"
        )
    return parquet, names, notes


def _pandas_index_columns(schema: pa.Schema) -> list[str]:
    """The columns that pandas' metadata names as the stored index (none for a default range index)."""
    import json

    text = (schema.metadata or {}).get(b"pandas")
    if not text:
        return []
    try:
        index = json.loads(text).get("index_columns", [])
    except (ValueError, AttributeError):  # metadata some other writer filled in: no index to leave out
        return []
    # A range index is a dict of start/stop/step, not a column.
    return [name for name in index if isinstance(name, str) and name in schema.names] if isinstance(index, list) else []


def _parquet_source(path: str, table: pa.Table, float_dtype: type, first_row: int = 0) -> Source:
    """A Parquet table (or a block of its rows starting at ``first_row``) as a ``Source``.

    Whole files and streamed blocks go through here alike, so that both give
    the same arrays and the same problems: a column that is not numbers (text,
    dates, lists, structs, dictionaries, nulls only), an empty cell, an
    unsigned integer beyond int64.
    """
    import pyarrow as pa

    names = list(table.column_names)
    values: list[list[np.ndarray] | None] = []
    unreadable: dict[int, ColumnProblem] = {}
    for index, (name, column) in enumerate(zip(names, table.columns, strict=True)):
        kind = _numeric_kind(column.type)
        if kind is None:
            problem = ColumnProblem(
                f"column {name!r} holds {column.type} values, not numbers",
                "convert it to numbers when writing the file, or choose numeric columns with",
            )
        elif column.null_count:
            row = first_row + _first_null(column)
            problem = ColumnProblem(
                f"row {row + 1}, column {name!r}: empty cell (null)", "fill it in or choose other columns with"
            )
        else:
            try:
                values.append(_numpy_chunks(column, kind))
                continue
            except pa.ArrowInvalid:  # uint64 values beyond int64: the only numbers int64/float64 casts refuse
                row, value = _first_beyond_int64(column)
                problem = ColumnProblem(
                    f"row {first_row + row + 1}, column {name!r}: {value} is beyond int64 (at most {2**63 - 1})",
                    "store the column as int64 or float, or choose other columns with",
                )
        unreadable[index] = problem
        values.append(None)
    array, integer_columns = _stack_columns(values, table.num_rows, float_dtype)
    return Source(path, array, names, integer_columns, unreadable)


def _first_beyond_int64(column: pa.ChunkedArray) -> tuple[int, int]:
    """Row and value of the first value of an unsigned (null-free) column that int64 cannot hold."""
    offset = 0
    for chunk in column.chunks:
        beyond = chunk.to_numpy() > 2**63 - 1
        if beyond.any():
            row = int(np.argmax(beyond))
            return offset + row, chunk[row].as_py()
        offset += len(chunk)
    raise AssertionError("no value beyond int64")


# --- text tables ---------------------------------------------------------------------------


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
    for index, column in enumerate(table.columns):
        chunks, problem = _convert_text_column(layout, index, column)
        values.append(_as_integers(chunks, float_dtype))
        if problem is not None:
            unreadable[index] = problem
    array, integer_columns = _stack_columns(values, table.num_rows, float_dtype)
    return Source(name, array, names, integer_columns, unreadable, layout.notes)


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


def _find_layout(name: str, data: bytes | mmap.mmap, delimiter: str | None, header: bool | None = None) -> _Layout:
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


def _first_null(column: pa.ChunkedArray) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    offset = 0
    for chunk in column.chunks:
        if chunk.null_count:
            if pa.types.is_null(chunk.type):
                return offset
            flags = pc.cast(pc.is_null(chunk), pa.int8())
            return offset + int(
                np.argmax(np.frombuffer(flags.buffers()[1], dtype=np.int8, count=len(flags), offset=flags.offset))
            )
        offset += len(chunk)
    raise AssertionError("column without nulls")


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


# --- Arrow -> numpy --------------------------------------------------------------------------------


def _numeric_kind(arrow_type: pa.DataType) -> str | None:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    return None


def _numpy_chunks(column: pa.ChunkedArray, kind: str) -> list[np.ndarray]:
    """Zero-copy numpy views of a null-free numeric column's chunks (cast to int64/float64 first if needed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if kind == "int":
        target, dtype = pa.int64(), np.dtype(np.int64)
    elif pa.types.is_float32(column.type):  # parsed as float32 on request: keep it
        target, dtype = pa.float32(), np.dtype(np.float32)
    else:
        target, dtype = pa.float64(), np.dtype(np.float64)
    views = []
    for chunk in column.chunks:
        if len(chunk) == 0:
            continue
        if chunk.type != target:
            chunk = pc.cast(chunk, target)
        views.append(
            np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)
        )
    return views


def _stack_columns(
    values: list[list[np.ndarray] | None], n_rows: int, float_dtype: type = np.float64
) -> tuple[np.ndarray, frozenset[int]]:
    """One C-contiguous (rows, columns) array; ``None`` columns (unreadable) become NaN.

    int64 when every column holds integers; otherwise ``float_dtype`` (each
    chunk converted as it is copied), or float64 when ``float_dtype`` cannot
    hold a column as read: integers past 2**24, or floats past float32's
    largest (3.4e38). The returned set names the integer columns, which
    ``select_columns`` restores exactly; a float too large for the run is
    then refused with its row by the run's own check (``inputs.as_computed``).
    A single single-chunk column of the right type is a view on the Arrow
    buffer, not a copy.
    """
    integer = frozenset(
        index for index, chunks in enumerate(values) if chunks is not None and all(c.dtype == np.int64 for c in chunks)
    )
    if len(integer) == len(values):
        return _filled(values, n_rows, np.dtype(np.int64)), integer
    dtype = np.dtype(float_dtype)
    exact = _exact_integers(values, integer, dtype)
    if exact != integer:
        dtype = np.dtype(np.float64)
        exact = _exact_integers(values, integer, dtype)
    try:
        with np.errstate(over="raise"):
            return _filled(values, n_rows, dtype), exact
    except FloatingPointError:
        return _filled(values, n_rows, np.dtype(np.float64)), _exact_integers(values, integer, np.dtype(np.float64))


def _exact_integers(values: list[list[np.ndarray] | None], integer: frozenset[int], dtype: np.dtype) -> frozenset[int]:
    """The integer columns whose every value the float ``dtype`` holds exactly (up to 2**24 in float32, 2**53)."""
    limit = 2 ** (np.finfo(dtype).nmant + 1)
    return frozenset(
        index for index in integer if all(-limit <= int(c.min()) and int(c.max()) <= limit for c in values[index])
    )


def _filled(values: list[list[np.ndarray] | None], n_rows: int, dtype: np.dtype) -> np.ndarray:
    if len(values) == 1 and values[0] is not None and len(values[0]) == 1 and values[0][0].dtype == dtype:
        return values[0][0].reshape(n_rows, 1)
    out = np.empty((n_rows, len(values)), dtype=dtype)
    for index, chunks in enumerate(values):
        if chunks is None:
            out[:, index] = np.nan
            continue
        row = 0
        for chunk in chunks:
            out[row : row + len(chunk), index] = chunk
            row += len(chunk)
    return out


# --- column selection --------------------------------------------------------------------------------


def _check_selectable(source: Source, option: str) -> None:
    shape = source.array.shape
    if len(shape) == 2:
        return
    if len(shape) < 2:
        raise DataError(
            f"{source.name}: a {len(shape)}-D array of shape {shape} has no columns to pick with {option}; "
            f"drop {option}"
        )
    raise DataError(
        f"{source.name}: {option} picks columns of 2-D data, but the array has shape {shape}; drop {option}"
    )


def _resolve_column(source: Source, selector: str, option: str) -> int:
    """Column index of a name (exact match first) or of a 0-based, possibly negative, index."""
    columns = source.columns
    n_columns = source.array.shape[1]
    text = str(selector).strip()
    if columns is not None and text in columns:
        return columns.index(text)
    try:
        index = int(text)
    except ValueError:
        if columns is None:
            raise DataError(
                f"{source.name}: {text!r} is not a column index, and an array has no column names; "
                f"give {option} an index from {-n_columns} to {n_columns - 1}"
            ) from None
        raise DataError(
            f"{source.name}: no column {text!r}; the columns are {_listed(columns)}; "
            f"give {option} one of these names or a 0-based index"
        ) from None
    if not -n_columns <= index < n_columns:
        what = (
            f"the columns are {_listed(columns)}"
            if columns is not None
            else f"the array has shape {source.array.shape}"
        )
        raise DataError(
            f"{source.name}: column index {index} is out of range "
            f"({n_columns} column{'s' * (n_columns != 1)}; {what}); "
            f"give {option} an index from {-n_columns} to {n_columns - 1}"
        )
    return index % n_columns


def _checked_columns(source: Source, indices: list[int], option: str) -> np.ndarray:
    """The columns ``indices`` of a table, once none of them is unreadable (its problem is raised with ``option``)."""
    for index in indices if source.unreadable else ():  # millions of columns, for one long line
        if index in source.unreadable:
            problem, remedy = source.unreadable[index]
            raise DataError(f"{source.name}: {problem}; {remedy} {option}")
    return _take_columns(source, indices)


def _take_columns(source: Source, indices: list[int]) -> np.ndarray:
    array = source.array
    to_int = array.dtype != np.int64 and source.integer_columns.issuperset(indices)
    if len(indices) == 1:
        picked = array[:, indices[0]]
    elif indices == list(range(indices[0], indices[-1] + 1)):
        picked = array[:, indices[0] : indices[-1] + 1]  # a run of columns: a view, no copy
    else:
        picked = array[:, indices]
    return picked.astype(np.int64) if to_int else picked


def _listed(columns: list[str]) -> str:
    shown = ", ".join(repr(column) for column in columns[:_MAX_LISTED_COLUMNS])
    extra = len(columns) - _MAX_LISTED_COLUMNS
    return f"{shown}, ... ({extra} more)" if extra > 0 else shown


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(repr(item) for item in items)


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_CELL_CHARS else text[: _MAX_CELL_CHARS - 3] + "..."


# --- reading a block of rows at a time --------------------------------------------------------


def iter_row_chunks(
    path: str,
    chunk_rows: int,
    *,
    selectors: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    option: str = "--pred-col",
    key: str | None = None,
    key_option: str = "--pred-key",
    float_dtype: type = np.float64,
    header: bool | None = None,
    stdin: BinaryIO | None = None,
) -> tuple[Source, Iterator[np.ndarray]]:
    """A file's selected columns ``chunk_rows`` rows at a time, without holding the whole file.

    Returns the source's header (name, columns and notes, with an empty array
    of the right width, for messages and column checks) and an iterator of
    arrays shaped as ``select_columns`` shapes them: the values, integer
    columns and errors a whole read gives. Text tables (files, pipes, ``-``)
    are read once from start to end, in pieces of whole lines that pyarrow
    parses; ``.npy`` streams through its memory map, ``.npz`` arrays as they
    inflate and Parquet by row groups; other forms (Fortran-order or 0-d
    ``.npz`` arrays, text tables of very long lines) are read whole and then
    sliced. ``header`` and ``stdin`` are as for ``read_source``.
    """
    extension = os.path.splitext(path)[1].lower()
    regular = path != STDIN and _is_regular_file(path, extension)
    if not regular or extension in _TEXT_DELIMITERS:
        _refuse_key(STDIN_NAME if path == STDIN else path, key, key_option)
        delimiter = None if path == STDIN else _TEXT_DELIMITERS.get(extension)
        options = (selectors, exclude, option, float_dtype, header, stdin)
        return _text_chunks(path, delimiter, chunk_rows, *options, regular)
    if extension in _PARQUET_EXTENSIONS:
        _check_file(path)
        return _parquet_chunks(path, chunk_rows, selectors, exclude, option, float_dtype)
    if extension == ".npz":
        _check_file(path)
        streamed = _npz_chunks(path, chunk_rows, key, key_option, selectors, exclude, option)
        if streamed is not None:
            return streamed
    source = read_source(path, key=key, key_option=key_option, float_dtype=float_dtype)
    if isinstance(source.array.base, mmap.mmap) and source.array.ndim > 0:  # a memory-mapped .npy
        select_columns(dataclasses.replace(source, array=source.array[:0]), selectors, exclude=exclude, option=option)
        return source, _mapped_chunks(source, chunk_rows, selectors, exclude, option)
    return source, row_slices(select_columns(source, selectors, exclude=exclude, option=option), chunk_rows)


def row_slices(array: np.ndarray, chunk_rows: int) -> Iterator[np.ndarray]:
    """An array held whole, ``chunk_rows`` rows at a time (a 0-d array at once), as ``iter_row_chunks`` gives them."""
    if array.ndim == 0:
        return iter([array])
    return (array[start : start + chunk_rows] for start in range(0, max(len(array), 1), chunk_rows))


def _mapped_chunks(
    source: Source, chunk_rows: int, selectors: Sequence[str] | None, exclude: Sequence[str], option: str
) -> Iterator[np.ndarray]:
    """Rows of a memory-mapped array, copied a chunk at a time, its pages let go after each.

    Pages of a mapped file that were read count in the process's resident
    memory until it lets them go; without this, streaming an .npy grows to the
    file's size. The pages stay in the page cache.
    """
    array, mapping = source.array, source.array.base
    for start in range(0, max(len(array), 1), chunk_rows):
        part = dataclasses.replace(source, array=array[start : start + chunk_rows])
        chunk = np.array(select_columns(part, selectors, exclude=exclude, option=option))
        mapping.madvise(mmap.MADV_DONTNEED)
        yield chunk


def _npz_chunks(
    path: str,
    chunk_rows: int,
    key: str | None,
    key_option: str,
    selectors: Sequence[str] | None,
    exclude: Sequence[str],
    option: str,
) -> tuple[Source, Iterator[np.ndarray]] | None:
    """The rows of an .npz array as they inflate, a chunk at a time; None for one read whole (0-d, Fortran order).

    Memory stays a chunk's however far the array inflates (``NPZ_INFLATE_LIMIT``
    applies to whole reads only); the header is checked as a whole read
    checks it, and the selection before any row is read.
    """
    with _npz_member(path, key, key_option) as (_, _, header, _):
        if header.fortran_order or not header.shape:
            return None
    source = Source(path, np.empty((0, *header.shape[1:]), header.dtype), None)
    select_columns(source, selectors, exclude=exclude, option=option)

    def rows() -> Iterator[np.ndarray]:
        with _npz_member(path, key, key_option) as (described, handle, header, _):
            row_bytes = math.prod(header.shape[1:]) * header.dtype.itemsize
            for start in range(0, header.shape[0], chunk_rows):
                count = min(chunk_rows, header.shape[0] - start)
                try:
                    data = handle.read(count * row_bytes)
                except _ZIP_READ_ERRORS as exc:
                    raise DataError(f"{described} cannot be read ({exc}); save the archive again") from None
                if len(data) < count * row_bytes:
                    raise DataError(
                        f"{described} ends before its {counted(header.shape[0], 'row')}; save the archive again"
                    )
                part = np.frombuffer(data, header.dtype).reshape(count, *header.shape[1:])
                yield select_columns(dataclasses.replace(source, array=part), selectors, exclude=exclude, option=option)

    return source, rows()


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
    source = Source(name, np.empty((0, len(layout.names)), float_dtype), layout.names, notes=layout.notes)
    indices = resolve_columns(source, selectors, exclude=exclude, option=option)
    body = itertools.chain([head[layout.body_start :]], blocks)
    return source, rechunk(_csv_blocks(layout, body, indices, float_dtype, option), chunk_rows)


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
    layout: _Layout, body: Iterator[bytes], indices: list[int], float_dtype: type, option: str
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
    whole, block by block.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [f"c{index}" for index in range(layout.n_fields)]
    wanted = [names[index + layout.index_column] for index in indices]
    whitespace = layout.delimiter == _WHITESPACE
    options = dict(
        read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 20, use_threads=True),
        parse_options=pcsv.ParseOptions(
            delimiter="\t" if whitespace else layout.delimiter,
            quote_char=False if whitespace else '"',
            ignore_empty_lines=True,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(wanted, pa.from_numpy_dtype(float_dtype)),
            include_columns=list(dict.fromkeys(wanted)),  # a column chosen twice is read once
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
            for batch in table.to_batches():
                block = _batch_array([batch.column(name) for name in wanted], float_dtype)
                yield booleans.numbers(block, float_dtype)
                rows += len(block)
        elif piece.strip():
            line = lines.at(offset)
            block = _read_piece(layout, piece, line, rows, indices, float_dtype, option, booleans)
            yield booleans.numbers(block, float_dtype)
            rows += len(block)
        lines.passed(piece)
        offset += len(piece)


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


def _parquet_chunks(
    path: str, chunk_rows: int, selectors: Sequence[str] | None, exclude: Sequence[str], option: str, float_dtype: type
) -> tuple[Source, Iterator[np.ndarray]]:
    """The selected columns of a Parquet file, a record batch at a time, converted as a whole read converts them."""
    import pyarrow as pa

    parquet, names, notes = _open_parquet(path)
    header = Source(path, np.empty((0, len(names)), float_dtype), names, notes=notes)
    try:
        wanted = [names[i] for i in resolve_columns(header, selectors, exclude=exclude, option=option)]
    except DataError:
        parquet.close()
        raise

    distinct = list(dict.fromkeys(wanted))  # a column chosen twice is read once

    def batches() -> Iterator[pa.RecordBatch]:
        """The record batches; a page found damaged on the way is the whole read's error (exit 3)."""
        iterator = parquet.iter_batches(batch_size=chunk_rows, columns=distinct, use_pandas_metadata=False)
        rows = 0
        while True:
            try:
                batch = next(iterator, None)
                if batch is None and rows != parquet.metadata.num_rows:
                    raise pa.ArrowInvalid(_wrong_length(rows, parquet.metadata.num_rows))
            except _parquet_errors() as exc:
                found = _first_damaged_column(parquet, distinct)
                if found is None:
                    raise DataError(f"{path}: not a readable Parquet file ({str(exc).strip()})") from None
                problem, remedy = _damaged_column(*found)
                raise DataError(f"{path}: {problem}; {remedy} {option}") from None
            if batch is None:
                return
            rows += batch.num_rows
            yield batch

    def blocks() -> Iterator[np.ndarray]:
        rows = 0
        with parquet:
            for batch in batches():
                read = pa.Table.from_batches([batch])
                table = pa.Table.from_arrays([read.column(name) for name in wanted], names=wanted)
                block = _parquet_source(path, table, float_dtype, first_row=rows)
                yield _checked_columns(block, list(range(len(wanted))), option)
                rows += batch.num_rows

    return header, rechunk(blocks(), chunk_rows)


def rechunk(blocks: Iterator[np.ndarray], chunk_rows: int) -> Iterator[np.ndarray]:
    """Blocks of any size as chunks of exactly ``chunk_rows`` rows (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= chunk_rows:
            joined = pending[0] if len(pending) == 1 else np.concatenate(pending)
            yield joined[:chunk_rows]
            rest = joined[chunk_rows:]
            pending, held = ([rest] if len(rest) else []), len(rest)
    if held:
        yield pending[0] if len(pending) == 1 else np.concatenate(pending)
