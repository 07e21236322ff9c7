"""Short names that tell models apart: the part of their paths that differs.

``runs/exp_2026_11_lr0.1/preds.csv`` and ``runs/exp_2026_11_lr0.01/preds.csv``
read ``lr0.1`` and ``lr0.01``; ``sample_data/regression_pred.csv`` and
``sample_data/regression_pred_b.csv`` read ``pred`` and ``pred_b``. Names are
cut only at word boundaries (path separators, ``_``, ``-``, spaces and a file
extension), never inside a word, so a number in a name stays whole.
"""

from __future__ import annotations

import os
import re

_COMPONENT = re.compile(r"[/\\:]")
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
_TOKEN = re.compile(r"[_\-\s/]+|[^_\-\s/]+")
_SEPARATOR = re.compile(r"[_\-\s/]+")
SHORTEST = 3
"""A part shorter than this (``a``, ``b``) keeps the word before it (``model_a``)."""


def distinguishing_names(models: list[str]) -> dict[str, str]:
    """Model → the part of its name that tells it from the others (the whole name when nothing shorter does)."""
    if not models:
        return {}
    parts = [_COMPONENT.split(os.path.normpath(model) if model != "-" else model) for model in models]
    if len({p[-1] for p in parts}) == len(parts):  # the file names alone tell the models apart
        parts = [p[-1:] for p in parts]
    lead = _common(parts)
    if len(models) == 1:
        lead = len(parts[0]) - 1
    trail = _common([p[lead:][::-1] for p in parts]) if len(models) > 1 else 0
    rests = ["/".join(p[lead : len(p) - trail]) for p in parts]
    tokens = [_tokens(rest) for rest in rests]
    if len(models) == 1:
        shown = ["".join(_strip(tokens[0][:-1] if len(tokens[0]) > 1 else tokens[0]))]
    else:
        shown = _middles(tokens)
    if len(set(shown)) < len(shown) or not all(name and not name.startswith(".") for name in shown):
        shown = rests if len(set(rests)) == len(rests) else models
    return {model: "<stdin>" if model == "-" else name for model, name in zip(models, shown, strict=True)}


def _common(sequences: list[list[str]]) -> int:
    """How many leading items every sequence shares, leaving each at least one."""
    n = 0
    shortest = min(len(s) for s in sequences)
    while n < shortest - 1 and all(s[n] == sequences[0][n] for s in sequences):
        n += 1
    return n


def _tokens(text: str) -> list[str]:
    """Words and separators, with a file extension as a token of its own."""
    match = _EXTENSION.search(text)
    stem, extension = (text[: match.start()], match.group()) if match and match.start() else (text, "")
    return _TOKEN.findall(stem) + ([extension] if extension else [])


def _strip(tokens: list[str]) -> list[str]:
    """Without separators at either end."""
    start, end = 0, len(tokens)
    while start < end and _SEPARATOR.fullmatch(tokens[start]):
        start += 1
    while end > start and _SEPARATOR.fullmatch(tokens[end - 1]):
        end -= 1
    return tokens[start:end]


def _middles(tokens: list[list[str]]) -> list[str]:
    """Each token list without the words all share at the start and the end, keeping enough to read."""
    shortest = min(len(t) for t in tokens)
    prefix = 0
    while prefix < shortest and all(t[prefix] == tokens[0][prefix] for t in tokens):
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and all(t[len(t) - 1 - suffix] == tokens[0][-1 - suffix] for t in tokens):
        suffix += 1
    while True:
        middles = [_strip(t[prefix : len(t) - suffix]) for t in tokens]
        if prefix == 0 or all(len("".join(m)) >= SHORTEST for m in middles):
            return ["".join(m) for m in middles]
        prefix -= 1  # keep the word before: back over the separator and the word
        while prefix > 0 and _SEPARATOR.fullmatch(tokens[0][prefix]):
            prefix -= 1
