"""Reference cases for the geometry losses torch.nn lacks (see ``lossref``)."""

from __future__ import annotations

CASES: list = []
