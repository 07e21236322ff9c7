"""The loss registry: one frozen ``LossSpec`` per loss, looked up by name or alias.

Specs are plain data. Reading them (``list``, ``info``, ``recommend``) never
imports torch; the implementation named by ``LossSpec.impl`` is resolved only
when a loss is computed.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from losscli.errors import UnknownLossError

FAMILIES = (
    "regression",
    "classification",
    "multilabel",
    "ranking",
    "embedding",
    "distribution",
    "sequence",
    "segmentation",
    "image",
    "detection",
)

DECOMPOSITIONS = ("elements", "rows", "target_weight")


@dataclass(frozen=True)
class Role:
    """One tensor argument of a loss, named as torch names it.

    ``kind`` is ``pred`` for model outputs (the loss is differentiated with
    respect to them), ``target`` for the labels, ``extra`` for other inputs
    such as CTC's lengths. ``dtype`` is ``float``, ``index`` (integral class
    indices, int64), ``index_or_prob`` (class indices, or class probabilities
    when shaped like the input) or ``length`` (non-negative integers).
    ``domain`` names the values expected: ``real``, ``prob`` ([0, 1]),
    ``sign`` ({-1, 1}), ``nonneg`` (>= 0), ``class`` (indices in [0, C)),
    ``multilabel_index`` (indices padded by -1), ``ctc_label``, and for
    predictions ``logits`` (unnormalised scores) or ``log_probs``
    (log-probabilities). ``prob``/``sign``/``nonneg`` are enforced; the
    prediction kinds drive the advisor's warnings.
    """

    name: str
    kind: str
    shape: str
    dtype: str = "float"
    domain: str = "real"
    doc: str = ""
    default: str | None = None

    @property
    def differentiable(self) -> bool:
        return self.kind == "pred"


@dataclass(frozen=True)
class Param:
    """A constructor parameter, settable with ``-p name=value``.

    ``kind`` is ``float``, ``int``, ``bool``, ``str``, ``tensor`` (a JSON
    list turned into a float tensor) or ``distance`` (one of ``choices``,
    turned into a distance function).
    ``torch_name`` is the constructor's keyword when it differs from ``name``.
    ``minimum``/``maximum`` bound numbers (inclusive, or exclusive below with
    ``strict_minimum``).
    """

    name: str
    default: Any
    doc: str
    kind: str = "float"
    choices: tuple[str, ...] = ()
    torch_name: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    strict_minimum: bool = False

    @property
    def keyword(self) -> str:
        return self.torch_name or self.name


@dataclass(frozen=True)
class LossSpec:
    """Everything losscli knows about one loss, torch-free.

    ``decomposition`` says whether the loss splits over the rows (axis 0) of
    its inputs, so that ``losscli.engine.chunked`` can compute it exactly chunk by
    chunk, and what its ``mean`` divides the sum of the ``none`` output by:

    * ``None``: the samples interact (the loss of a row depends on other rows,
      or axis 0 is not the sample axis): computed whole.
    * ``"elements"``: an element-wise loss; the ``none`` output is shaped like
      the input and ``mean`` divides by its number of elements. Inputs of any
      shape split.
    * ``"rows"``: one loss per sample (a row, reduced over its other axes);
      ``mean`` divides by the number of elements of the ``none`` output (the
      samples, times any extra axes such as d1, … or classes). A 1-D input of
      these losses is a single sample and is computed whole.
    * ``"target_weight"``: per-sample class losses with index targets whose
      ``mean`` is torch's weighted mean, Σ l_n / Σ w[y_n] over the targets not
      equal to ``ignore_index`` (w = 1 without ``weight``), label smoothing
      included; probability targets divide by the elements of the ``none``
      output, as ``"rows"``.

    ``batchmean`` always divides the sum by the number of rows.
    """

    name: str
    torch_name: str | None
    family: str
    impl: str
    roles: tuple[Role, ...]
    params: tuple[Param, ...]
    formula: str
    use_when: str
    avoid_when: str
    article_section: str
    shape_rule: str
    aliases: tuple[str, ...] = ()
    default_reduction: str = "mean"
    reductions: tuple[str, ...] = ("mean", "sum", "none")
    notes: str = ""
    batch_dim: int = 0
    label_kind: str = "real"
    source: str = ""
    """Where a loss torch.nn lacks comes from (library and name); torch.nn's class otherwise."""
    curve: str = "elementwise"
    """How ``losscli curve`` draws it: a key of ``losscli.engine.curves.KINDS`` (the prediction itself,
    the probability of the true class, a score difference, a cosine, …)."""
    decomposition: str | None = None
    """How the loss splits over the rows of its inputs, one of ``DECOMPOSITIONS`` or None (see above)."""
    resampling: str | None = None
    """Why a loss that does not decompose cannot be bootstrapped by recomputing it on resampled rows (None:
    it can), said when ``--ci`` asks for an interval."""

    @property
    def origin(self) -> str:
        return self.source or f"torch.nn.{self.torch_name}"

    @property
    def pred_role(self) -> Role:
        """The role the positional PRED fills: the first differentiable one."""
        return next(r for r in self.roles if r.differentiable)

    @property
    def target_role(self) -> Role | None:
        """The role the positional LABELS fills, or None for target-free losses."""
        return next((r for r in self.roles if r.kind == "target"), None)

    @property
    def input_roles(self) -> tuple[Role, ...]:
        """Roles given with ``--input NAME=PATH``: all but PRED and LABELS."""
        return tuple(r for r in self.roles if r is not self.pred_role and r is not self.target_role)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name or p.torch_name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``info -f json`` document: formula, inputs, parameters, when to use it, its source."""
        from losscli.render import info_dict

        return info_dict(self)

    def __repr__(self) -> str:
        return f"<LossSpec {self.name} ({self.torch_name or self.origin}; {self.family}): {self.formula}>"

    def _repr_html_(self) -> str:
        from losscli.render import html_table

        data = self.to_dict()
        rows = [(key, data[key]) for key in ("name", "torch_name", "family", "formula", "use_when", "avoid_when")]
        rows += [(f"input {i['name']}", f"{i['shape']}: {i['description']}") for i in data["inputs"]]
        rows += [(f"-p {p['name']}", f"{p['default']!r}: {p['description']}") for p in data["params"]]
        return html_table(rows)


def normalize(name: str) -> str:
    """Fold a loss name for lookup: case, ``-``, ``_`` and spaces do not matter."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


@dataclass
class Registry:
    """Loss specs by canonical name, plus a folded-alias index."""

    specs: dict[str, LossSpec] = field(default_factory=dict)
    index: dict[str, str] = field(default_factory=dict)

    def register(self, spec: LossSpec) -> LossSpec:
        if spec.family not in FAMILIES:
            raise ValueError(f"{spec.name}: unknown family {spec.family!r}")
        if spec.decomposition is not None and spec.decomposition not in DECOMPOSITIONS:
            raise ValueError(f"{spec.name}: unknown decomposition {spec.decomposition!r}")
        if spec.name in self.specs:
            raise ValueError(f"{spec.name}: registered twice")
        self.specs[spec.name] = spec
        for alias in (spec.name, *spec.aliases):
            self.register_alias(alias, spec.name)
        return spec

    def register_alias(self, alias: str, name: str) -> None:
        key = normalize(alias)
        owner = self.index.get(key)
        if owner is not None and owner != name:
            raise ValueError(f"alias {alias!r} of {name} already names {owner}")
        self.index[key] = name

    def get(self, name: str) -> LossSpec:
        key = normalize(name)
        canonical = self.index.get(key)
        if canonical is None and key.endswith("loss"):
            canonical = self.index.get(key[: -len("loss")])
        if canonical is None:
            raise UnknownLossError(self._unknown_message(name))
        return self.specs[canonical]

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(normalize(name), list(self.index), n=5, cutoff=0.6)
        names = list(dict.fromkeys(self.specs[self.index[c]].name for c in close))
        hint = f"did you mean {', '.join(names)}?" if names else "run 'losscli list' to see them all."
        return f"unknown loss {name!r}; {hint}"

    def list(self, family: str | None = None, pattern: str | None = None) -> list[LossSpec]:
        found = []
        for spec in self.specs.values():
            if family is not None and spec.family != family:
                continue
            if pattern is not None and not any(
                fnmatch.fnmatch(n.lower(), pattern.lower()) for n in (spec.name, *spec.aliases)
            ):
                continue
            found.append(spec)
        return found


REGISTRY = Registry()
register = REGISTRY.register


def _catalog() -> Registry:
    import losscli.catalog  # noqa: F401  (registers every spec on first import)

    return REGISTRY


def get_loss(name: str) -> LossSpec:
    """The spec registered under ``name`` or one of its aliases, case-insensitively."""
    return _catalog().get(name)


def list_losses(family: str | None = None, pattern: str | None = None) -> list[LossSpec]:
    """Every registered spec, optionally filtered by family and a glob on names."""
    return _catalog().list(family, pattern)
