"""Reference cases for the regression losses torch.nn lacks (see ``lossref``)."""

from __future__ import annotations

CASES: list = []
