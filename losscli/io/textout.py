"""Large arrays as JSON or CSV text, a block of rows at a time, formatted by Arrow's C++ kernels.

``json.dumps`` of ``tolist()`` builds a Python object per number (10 million
gradient values took 20 s and 1.7 GB); here each block of about a million
numbers is turned into text by pyarrow (shortest decimals that read back the
same in the array's dtype) and written out before the next, so time stays
about a second per 10 million numbers and memory that of one block.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

BLOCK_ELEMENTS = 1 << 20
"""Numbers turned into text at a time."""

SEPARATOR = ", "
"""Between the items of a JSON array, as ``json.dumps`` writes them."""


def decimals(flat: np.ndarray, *, json_numbers: bool) -> pa.Array:
    """Each element of a 1-D array as text: the shortest decimal that reads back the same in its dtype.

    For JSON, whole floats keep a ``.0`` (they stay floats to a reader) and
    NaN and infinities become ``null``; for CSV they are ``nan``, ``inf``, ``-inf``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = pa.array(flat)
    text = pc.cast(array, pa.string())
    if flat.dtype.kind != "f" or not json_numbers:
        return text
    with np.errstate(invalid="ignore"):
        whole = flat == np.trunc(flat)  # few, usually (zeros): the texts are looked at only if there are any
    if whole.any():
        bare = pc.match_substring_regex(text, r"^-?[0-9]+$")  # "3", not "1e+20"
        text = pc.if_else(bare, pc.binary_join_element_wise(text, ".0", ""), text)
    if not np.isfinite(flat).all():
        text = pc.if_else(pc.is_finite(array), text, pa.scalar("null"))
    return text


def _joined(texts: pa.Array, group: int, separator: str = ",") -> pa.Array:
    """Consecutive runs of ``group`` texts joined by ``separator``: one text per run."""
    import pyarrow as pa
    import pyarrow.compute as pc

    runs = len(texts) // group if group else 0
    offsets = pa.array(np.arange(runs + 1, dtype=np.int64) * group, pa.int64())
    return pc.binary_join(pa.LargeListArray.from_arrays(offsets, texts), separator)


def _one(texts: pa.Array, separator: str) -> str:
    """All of ``texts`` joined by ``separator`` into one string."""
    return _joined(texts, len(texts), separator)[0].as_py() if len(texts) else ""


def row_blocks(array: np.ndarray) -> Iterator[np.ndarray]:
    """``array`` (1-D or more) as blocks of whole rows along its first axis, about ``BLOCK_ELEMENTS`` each."""
    per_row = math.prod(array.shape[1:])
    step = max(1, BLOCK_ELEMENTS // max(per_row, 1))
    for start in range(0, len(array), step):
        yield array[start : start + step]


def _nested(block: np.ndarray) -> pa.Array:
    """One JSON text per row of ``block``, nested like it (a number for a 1-D block, else arrays)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    shape = block.shape
    texts = decimals(np.ascontiguousarray(block).reshape(-1), json_numbers=True)
    for axis in range(len(shape) - 1, 0, -1):
        runs = math.prod(shape[:axis])
        if shape[axis] == 0:
            texts = pa.array(["[]"] * runs, pa.string())
        else:
            texts = pc.binary_join_element_wise("[", _joined(texts, shape[axis], SEPARATOR), "]", "")
    return texts


def write_json_array(out: TextIO, array: np.ndarray) -> None:
    """``array`` as a JSON value, nested like it, as ``json.dumps(array.tolist())`` would but for NaN (null)."""
    if array.ndim == 0:
        out.write(_one(decimals(array.reshape(1), json_numbers=True), SEPARATOR))
        return
    out.write("[")
    for index, block in enumerate(row_blocks(array)):
        if index:
            out.write(SEPARATOR)
        out.write(_one(_nested(block), SEPARATOR))
    out.write("]")


def dumps(document: Any) -> str:
    """``document`` as one line of strict JSON: every float that is not finite becomes ``null``.

    ``json.dumps`` writes them as ``NaN`` and ``Infinity``, which jq and other
    strict parsers refuse; a ratio or a sum that overflows can turn up in any
    command's output, so every JSON document goes through here.
    """
    return json.dumps(_finite_or_null(document), allow_nan=False)


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


def write_json(out: TextIO, document: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """``document`` as one line of JSON, each string ``key`` of ``arrays`` in it replaced by that array.

    The keys must be strings nothing else in the document holds (a NUL
    character makes sure of it).
    """
    text = dumps(document)
    for key, array in arrays.items():
        head, text = text.split(json.dumps(key), 1)
        out.write(head)
        write_json_array(out, array)
    out.write(text + "\n")


def placeholder(index: int) -> str:
    """A string for ``write_json`` to replace: a NUL can be in no file name, loss name or message."""
    return f"\0array{index}\0"


def write_long_csv(out: TextIO, quantity: str, array: np.ndarray) -> None:
    """Rows ``quantity,index,value`` for every element of ``array``, its index as ``i`` or ``"i,j,..."``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if array.ndim == 0:
        out.write(f"{quantity},,{_one(decimals(array.reshape(1), json_numbers=False), ',')}\n")
        return
    per_row = math.prod(array.shape[1:])
    first = 0
    for block in row_blocks(array):
        flat = np.arange(first * per_row, (first + len(block)) * per_row, dtype=np.int64)
        first += len(block)
        if not len(flat):
            continue
        axes = [pc.cast(pa.array(i), pa.string()) for i in np.unravel_index(flat, array.shape)]
        if len(axes) == 1:
            index = axes[0]
        else:  # "i,j": quoted, as the csv module quotes a field holding the delimiter
            index = pc.binary_join_element_wise('"', pc.binary_join_element_wise(*axes, ","), '"', "")
        values = decimals(np.ascontiguousarray(block).reshape(-1), json_numbers=False)
        lines = pc.binary_join_element_wise(quantity, index, values, ",")
        out.write(_one(lines, "\n") + "\n")


def write_columns_csv(out: TextIO, header: list[str], arrays: list[Any]) -> None:
    """A header line, then one line per row of ``arrays`` side by side (all of the same length, each
    row flattened into its columns)."""
    import pyarrow.compute as pc

    out.write(",".join(header) + "\n")
    rows = len(arrays[0]) if arrays else 0
    step = max(1, BLOCK_ELEMENTS // max(len(header), 1))
    for start in range(0, rows, step):
        blocks = [np.asarray(a[start : start + step]) for a in arrays]
        columns = [
            decimals(np.ascontiguousarray(block.reshape(len(block), -1)[:, j]), json_numbers=False)
            for block in blocks
            for j in range(math.prod(block.shape[1:]))
        ]
        lines = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, ",")
        out.write(_one(lines, "\n") + "\n")


def write_npy(out: BinaryIO, array: Any) -> None:
    """``array`` in the ``.npy`` format, as ``numpy.save`` writes it, a block of rows at a time."""
    from numpy.lib import format as npy

    header = {"descr": npy.dtype_to_descr(array.dtype), "fortran_order": False, "shape": tuple(array.shape)}
    npy.write_array_header_1_0(out, header)
    if array.ndim == 0:
        out.write(np.ascontiguousarray(array).tobytes())
        return
    for block in row_blocks(array):
        out.write(np.ascontiguousarray(block).tobytes())
