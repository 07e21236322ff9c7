"""Reference cases for the classification losses torch.nn lacks (see ``lossref``)."""

from __future__ import annotations

CASES: list = []
