"""`losscli report` (issue 15, point 4): one self-contained HTML page of a comparison.

The page is read as a browser would: parsed with the standard library's ``html.parser`` (every reference it
makes, every table cell), and opened in a real headless Chromium (Debian's, driven by Playwright) that must
load it with no request but the file itself, no failed request and no console error, draw every plot, and
hold the comparison's values in its DOM. Every expected value comes from elsewhere: the ``compare -f json``
document, and numpy and scikit-learn on the sample files (the worst rows by ``argsort``, calibration bins
by ``calibration_curve``, confusion matrices by ``confusion_matrix``).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from scipy.special import expit, softmax
from sklearn.calibration import calibration_curve
from sklearn.metrics import confusion_matrix
from typer.testing import CliRunner

from losscli.cli import app

S = REPO / "sample_data"
LIMIT = 2 * 1024 * 1024
"""The most a report may weigh, in bytes."""

CASES = {
    "regression": [
        *(S / f"regression_pred{suffix}.csv" for suffix in ("", "_b", "_c")),
        "--labels",
        S / "regression_labels.csv",
        "--ci",
    ],
    "binary": [S / "binary_logits.csv", S / "binary_logits_b.csv", "--labels", S / "binary_labels.csv", "--by-class"],
    "multiclass": [
        S / "multiclass_logits.csv",
        S / "multiclass_logits_b.csv",
        "--labels",
        S / "multiclass_labels.txt",
        "--ci",
        "--baseline",
        S / "multiclass_logits.csv",
    ],
}
"""The sample runs of the issue: three regressors with intervals, two binary classifiers sliced by class, two
multiclass classifiers with intervals against a baseline."""

PLOTS = {
    "regression": ["Histogram of per-sample mse per model", "pred_b: predictions and residuals against the labels"],
    "binary": ["Reliability diagram of every model", "Confusion matrix of logits", "Confusion matrix of logits_b"],
    "multiclass": ["Histogram of per-sample cross_entropy per model", "Reliability diagram of every model"],
}
"""Some of the plots each page must hold (by their aria-label)."""


def column(path: Path) -> np.ndarray:
    """A sample file's numbers as float64 (``#`` comments and a header skipped)."""
    return pd.read_csv(path, comment="#", header=None if path.suffix == ".txt" else "infer").to_numpy(np.float64)


# --- reading a page ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""


@dataclass
class Table:
    attrs: dict[str, str | None]
    rows: list[list[Cell]] = field(default_factory=list)

    def body(self) -> list[list[Cell]]:
        """The rows below the header."""
        return self.rows[1:]


class Page(HTMLParser):
    """What a test reads of a report: every tag with its attributes, the tables and their cells' text (a line
    break as ``\\n``), the stylesheets' text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[Table] = []
        self.styles: list[str] = []
        self._cell: Cell | None = None
        self._in_style = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "table":
            self.tables.append(Table(found))
        elif tag == "tr":
            self.tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self._cell = Cell(tag, found)
        elif tag == "br" and self._cell is not None:
            self._cell.text += "\n"
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1].rows[-1].append(self._cell)
            self._cell = None
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.text += data
        if self._in_style:
            self.styles.append(data)

    def table(self, **attrs: str) -> Table:
        """The one table with these attributes."""
        found = [t for t in self.tables if all(t.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]
        assert len(found) == 1, (attrs, [t.attrs for t in self.tables])
        return found[0]

    def plots(self) -> list[str]:
        """The aria-label of every plot."""
        return [attrs["aria-label"] for tag, attrs in self.tags if tag == "svg" and attrs.get("class") == "plot"]


def references(page: Page) -> list[str]:
    """Every address the page refers to: attributes that load (src, href, …) and ``url(…)`` in its styles."""
    found = [
        value
        for _, attrs in page.tags
        for name, value in attrs.items()
        if name in ("src", "href", "xlink:href", "srcset", "poster", "data", "action", "background") and value
    ]
    styles = page.styles + [attrs["style"] for _, attrs in page.tags if attrs.get("style")]
    for style in styles:
        assert "@import" not in style
        found += [part.split(")")[0].strip("'\" ") for part in style.split("url(")[1:]]
    return found


def assert_self_contained(page: Page) -> None:
    """Nothing the page refers to is fetched: only data: URIs and links within the page (#…); no script,
    stylesheet link, frame or embedded object."""
    outside = [ref for ref in references(page) if not ref.startswith(("data:", "#"))]
    assert outside == []
    assert not {tag for tag, _ in page.tags} & {"script", "link", "iframe", "object", "embed", "base"}


# --- what the JSON says a cell shows ----------------------------------------------------------------------


def assert_compare_cell(text: str, data: dict[str, Any], row: dict[str, Any], loss: str) -> None:
    """A compare-table cell shows the JSON's value as the terminal table does: 6 significant digits (4 with
    an interval, the interval's ends to 3), the change against the baseline to 0.1 %, † on a significant
    difference, * on the column's best."""
    value, model = row["values"][loss], row["pred"]
    interval = data["ci"][model][loss] if "ci" in data else None
    assert text.split()[0] == (f"{value:.4g}" if interval else f"{value:.6g}"), text
    if interval:
        assert f"[{interval[0]:.3g}, {interval[1]:.3g}]" in text, text
    if data["baseline"] is not None and model != data["baseline"]:
        assert f"({row['change_pct'][loss]:+.1f}%)" in text, text
    difference = data.get("differences", {}).get(model, {}).get(loss)
    assert ("†" in text) == bool(difference and difference["significant"]), text
    assert text.strip().endswith("*") == (data["best"][loss] == model), text


def assert_compare_table(page: Page, data: dict[str, Any]) -> None:
    """Every model × loss of the JSON, and nothing else, in the compare table: its value exactly (data-value)
    and as shown."""
    table = page.table(id="compare-table")
    cells = {(c.attrs["data-model"], c.attrs["data-loss"]): c for line in table.body() for c in line if c.tag == "td"}
    assert set(cells) == {(row["pred"], loss) for row in data["rows"] for loss in data["losses"]}
    for row in data["rows"]:
        for loss in data["losses"]:
            cell = cells[row["pred"], loss]
            assert json.loads(cell.attrs["data-value"]) == row["values"][loss]
            assert_compare_cell(cell.text, data, row, loss)
    assert [line[0].text.removesuffix(" (baseline)") for line in table.body()] == [row["name"] for row in data["rows"]]


# --- the runs ---------------------------------------------------------------------------------------------


@dataclass
class Written:
    out: Path
    html: str
    page: Page
    data: dict[str, Any]
    """``compare -f json`` of the same run."""
    stderr: str
    seconds: float


def write_report(runner: Callable[[list[Any]], Any], args: list[Any], out: Path) -> Written:
    """``losscli report ARGS --out OUT`` (checked to succeed) and ``losscli compare ARGS --worst 10 -f json``."""
    started = time.perf_counter()
    result = runner(["report", *args, "--out", out])
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, (result.stderr, result.exception)
    compared = runner(["compare", *args, "--worst", "10", "-f", "json"])
    assert compared.exit_code == 0, compared.stderr
    text = out.read_text(encoding="utf-8")
    return Written(out, text, Page(text), json.loads(compared.stdout), result.stderr, seconds)


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Written]:
    """The sample runs' reports, written once for the module's tests (in-process, as ``invoke`` runs them)."""
    runner = CliRunner()
    folder = tmp_path_factory.mktemp("reports")

    def run(args: list[Any]) -> Any:
        return runner.invoke(app, [str(a) for a in args])

    return {name: write_report(run, args, folder / f"{name}.html") for name, args in CASES.items()}


# --- the page, parsed -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_report_is_one_small_self_contained_page(reports, case):
    written = reports[case]
    size = written.out.stat().st_size
    assert 0 < size < LIMIT
    assert written.stderr.strip() == f"Report: {written.out} ({size / 1024:,.0f} KiB)"
    assert written.html.startswith("<!DOCTYPE html>")
    assert_self_contained(written.page)
    assert set(PLOTS[case]) <= set(written.page.plots())
    assert [path.name for path in written.out.parent.iterdir() if path.name.startswith(".")] == []  # no temporary


@pytest.mark.parametrize("case", CASES)
def test_report_table_holds_the_json_values(reports, case):
    assert_compare_table(reports[case].page, reports[case].data)


@pytest.mark.parametrize("case", CASES)
def test_report_header_names_the_files_losses_and_intervals(reports, case):
    written = reports[case]
    data = written.data
    models = written.page.table(**{"class": "models"})
    assert [(line[0].text.removesuffix(" (baseline)"), line[1].text) for line in models.body()] == [
        (row["name"], row["pred"]) for row in data["rows"]
    ]
    assert f"<dd><code>{data['labels']}</code></dd>" in written.html
    losses = written.page.table(**{"class": "losses"})
    assert [(line[0].text.split("\n")[0], line[1].text) for line in losses.body()] == [
        (loss, data["reasons"][loss]) for loss in data["losses"]
    ]
    if "ci" in data:
        assert f"<dd>{100 * data['ci_level']:g} % {data['ci_method']} interval</dd>" in written.html


def test_regression_plots_and_worst_rows(reports):
    """A scatter and a residual plot per model; each model's worst rows are numpy's largest squared errors."""
    written = reports["regression"]
    labels = column(S / "regression_labels.csv")[:, 0]
    plots = written.page.plots()
    worst = written.page.table(**{"class": "worst", "data-loss": "mse"})
    shown: dict[str, list[int]] = {}
    model = None
    for line in worst.body():
        model = line[0].text or model
        shown.setdefault(model, []).append(int(line[1].text))
    for row in written.data["rows"]:
        name = row["name"]
        assert f"{name}: predictions and residuals against the labels" in plots
        errors = (column(Path(row["pred"]))[:, 0] - labels) ** 2
        assert shown[name] == list(np.argsort(-errors, kind="stable")[:10] + 1)
    assert [r["row"] for r in written.data["worst"][written.data["rows"][0]["pred"]]["mse"]] == shown[
        written.data["rows"][0]["name"]
    ]


def calibration_rows(page: Page, model: str) -> list[tuple[int, float, float]]:
    """(rows, mean predicted, observed) of each bin of ``model`` in the page's calibration table."""
    table = page.table(data_plot="calibration")
    return [
        (int(line[2].attrs["data-rows"]), float(line[3].attrs["data-predicted"]), float(line[4].attrs["data-observed"]))
        for line in table.body()
        if line[0].attrs["data-model"] == model
    ]


def confusion_counts(page: Page, model: str) -> np.ndarray:
    table = page.table(data_plot="confusion", data_model=model)
    return np.array([[int(cell.text) for cell in line[1:]] for line in table.body()])


def assert_calibration(page: Page, model: str, probability: np.ndarray, outcome: np.ndarray) -> None:
    """The page's bins are scikit-learn's ``calibration_curve`` (10 uniform bins) and numpy's histogram."""
    observed, predicted = calibration_curve(outcome, probability, n_bins=10, strategy="uniform")
    counts = np.histogram(probability, bins=np.linspace(0, 1, 11))[0]
    found = calibration_rows(page, model)
    assert [rows for rows, _, _ in found] == [int(n) for n in counts if n]
    np.testing.assert_allclose([p for _, p, _ in found], predicted, rtol=1e-5)
    np.testing.assert_allclose([o for _, _, o in found], observed, rtol=1e-12)


def test_binary_calibration_confusion_and_slices(reports):
    written = reports["binary"]
    labels = column(S / "binary_labels.csv")[:, 0].astype(int)
    for row in written.data["rows"]:
        probability = expit(column(Path(row["pred"]))[:, 0])
        assert_calibration(written.page, row["pred"], probability, labels)
        expected = confusion_matrix(labels, (probability >= 0.5).astype(int), labels=[0, 1])
        np.testing.assert_array_equal(confusion_counts(written.page, row["pred"]), expected)
    table = written.page.table(**{"class": "slices", "data-loss": "bce_with_logits"})
    models = [row["pred"] for row in written.data["rows"]]
    for line, piece in zip(table.body(), written.data["slices"], strict=True):
        assert line[0].text == str(piece["slice"]["class"])
        assert int(line[1].text) == piece["n"] == np.count_nonzero(labels == piece["slice"]["class"])
        for cell, model in zip(line[2:], models, strict=True):
            assert cell.text.split()[0] == f"{piece['values'][model]['bce_with_logits']:.6g}"


def test_multiclass_top_label_calibration_and_confusion(reports):
    written = reports["multiclass"]
    labels = column(S / "multiclass_labels.txt")[:, 0].astype(int)
    for row in written.data["rows"]:
        probabilities = softmax(column(Path(row["pred"])), axis=1)
        predicted = probabilities.argmax(axis=1)
        assert_calibration(written.page, row["pred"], probabilities.max(axis=1), (predicted == labels).astype(int))
        expected = confusion_matrix(labels, predicted, labels=range(probabilities.shape[1]))
        np.testing.assert_array_equal(confusion_counts(written.page, row["pred"]), expected)


# --- more runs --------------------------------------------------------------------------------------------


def test_report_by_a_text_column(invoke, write_file, tmp_path):
    """--by region: a slice table per loss, a row per region, each model's value as the JSON has it and n as
    pandas counts it."""
    labels = column(S / "regression_labels.csv")[:, 0]
    regions = np.array(["north", "south", "east", "west"])[np.arange(len(labels)) % 4]
    path = write_file("labels.csv", ["y,region", *(f"{float(y)!r},{r}" for y, r in zip(labels, regions, strict=True))])
    args = [S / "regression_pred.csv", S / "regression_pred_b.csv", "--labels", path, "--label-col", "y"]
    args += ["-l", "mse,l1", "--by", "region", "--min-slice-size", "1"]
    written = write_report(invoke, args, tmp_path / "by.html")
    assert_self_contained(written.page)
    assert_compare_table(written.page, written.data)
    counts = pd.Series(regions).value_counts()
    models = [row["pred"] for row in written.data["rows"]]
    for loss in written.data["losses"]:
        table = written.page.table(**{"class": "slices", "data-loss": loss})
        assert [c.text for c in table.rows[0]] == ["region", "n", *(row["name"] for row in written.data["rows"])]
        for line, piece in zip(table.body(), written.data["slices"], strict=True):
            assert line[0].text == piece["slice"]["region"]
            assert int(line[1].text) == piece["n"] == counts[piece["slice"]["region"]]
            for cell, model in zip(line[2:], models, strict=True):
                assert cell.text.split()[0] == f"{piece['values'][model][loss]:.6g}"


def test_many_rows_are_sampled_rasterized_and_small(invoke, write_file, tmp_path):
    """40 000 rows: the plots show a sample (said in the header), the scatter is a PNG inside its SVG, and the
    page stays under 2 MB."""
    rng = np.random.default_rng(15)
    y = rng.normal(5, 3, 40_000)
    labels = write_file("y.csv", ["y", *(f"{v:.4f}" for v in y)])
    pred = write_file("p.csv", ["p", *(f"{v:.4f}" for v in y + rng.normal(0, 1, len(y)))])
    out = tmp_path / "big.html"
    result = invoke(["report", pred, "--labels", labels, "-l", "mse", "--out", out])
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size < LIMIT
    page = Page(out.read_text())
    assert_self_contained(page)
    assert "a sample of the rows, one in every 2: 20,000 rows" in out.read_text()
    images = [attrs for tag, attrs in page.tags if tag == "image"]
    assert len(images) == 2 and all(a["xlink:href"].startswith("data:image/png;base64,") for a in images)


def test_an_unwritable_out_is_one_error_line_and_nothing_on_disk(expect_error, tmp_path):
    out = tmp_path / "missing" / "r.html"
    expect_error(["report", *CASES["binary"], "--out", out], 2, f"--out {out}", "does not exist")
    assert list(tmp_path.iterdir()) == []
    expect_error(["report", *CASES["binary"], "--out", tmp_path / "r.txt"], 2, "--out", ".html")
    assert list(tmp_path.iterdir()) == []


def test_a_failure_while_drawing_leaves_the_old_file_and_no_other(expect_error, monkeypatch, tmp_path):
    from losscli.render import report

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the plot broke")

    monkeypatch.setattr(report, "confusion", broken)
    out = tmp_path / "r.html"
    out.write_text("the previous report")
    expect_error(["report", *CASES["binary"], "--out", out], 1, "unexpected RuntimeError: the plot broke")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    assert out.read_text() == "the previous report"


def test_a_full_disk_leaves_no_file(expect_error, full_disk, monkeypatch, tmp_path):
    from losscli.render import report

    monkeypatch.setattr(report, "report_html", lambda result, curves: "<!DOCTYPE html>" + "x" * 50_000)
    full_disk(1000)
    out = tmp_path / "r.html"
    expect_error(["report", *CASES["binary"], "--out", out], 3, f"--out {out}", "needed about 50.0 kB")
    assert list(tmp_path.iterdir()) == []


def test_the_python_api_writes_the_same_page(tmp_path):
    import losscli

    labels = column(S / "regression_labels.csv")[:, 0]
    preds = {"a": column(S / "regression_pred.csv")[:, 0]}
    result = losscli.report(preds, labels, tmp_path / "api.html", losses=["mse"], dtype="float64")
    assert result.report == str(tmp_path / "api.html")
    page = Page((tmp_path / "api.html").read_text())
    cells = {c.attrs["data-model"]: c for line in page.table(id="compare-table").body() for c in line if c.tag == "td"}
    for name, pred in preds.items():
        assert json.loads(cells[name].attrs["data-value"]) == pytest.approx(np.mean((pred - labels) ** 2), rel=1e-12)


# --- the page in a real browser ---------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
"""Debian's Chromium as root, offline: without the background-networking flags it tries Google's hosts at
every start. Playwright gives each launch a fresh, empty profile of its own (its --user-data-dir)."""


def chromium_path() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module's pages; the tests skip, saying why, when there is none."""
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "no Chromium to open the report in: `make test` installs Debian's chromium (apt-get install chromium)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        started = time.perf_counter()
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        print(f"Chromium {launched.version} started in {time.perf_counter() - started:.2f} s")
        yield launched
        launched.close()


def screenshot(png: bytes) -> np.ndarray:
    """A screenshot as an array of grey levels (rows × columns, 0 black … 255 white)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)


def non_white(pixels: np.ndarray) -> float:
    """The share of pixels that are not white."""
    return float(np.mean(pixels < 245))


@pytest.mark.parametrize("case", CASES)
def test_report_renders_in_chromium(browser, reports, case):
    written = reports[case]
    url = written.out.as_uri()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, failed, console, errors = [], [], [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    page.on("console", lambda message: console.append((message.type, message.text)))
    page.on("pageerror", lambda error: errors.append(str(error)))
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    loaded = time.perf_counter() - started

    assert [r for r in requests if not r.startswith("data:")] == [url]
    assert failed == []
    assert [text for kind, text in console if kind in ("error", "warning")] == []
    assert errors == []

    plots = page.eval_on_selector_all(
        "svg.plot, img",
        """elements => elements.map(e => {
            const box = e.getBoundingClientRect();
            return {label: e.getAttribute('aria-label'), x: box.x + window.scrollX, y: box.y + window.scrollY,
                    width: box.width, height: box.height, natural: e.tagName === 'IMG' ? e.naturalWidth : null};
        })""",
    )
    assert [p["label"] for p in plots] == written.page.plots()
    shot = screenshot(page.screenshot(full_page=True))
    assert non_white(shot) > 0.05 and shot.std() > 20
    for plot in plots:  # each drawn: a box of its size on the page, not blank
        assert plot["width"] > 100 and plot["height"] > 100, plot
        assert plot["natural"] is None or plot["natural"] > 0, plot
        x, y = round(plot["x"]), round(plot["y"])
        assert non_white(shot[y : y + round(plot["height"]), x : x + round(plot["width"])]) > 0.02, plot

    cells = page.eval_on_selector_all(
        "#compare-table td[data-model]", "cells => cells.map(c => [c.dataset.model, c.dataset.loss, c.innerText])"
    )
    rows = {row["pred"]: row for row in written.data["rows"]}
    assert len(cells) == len(rows) * len(written.data["losses"])
    for model, loss, text in cells:
        assert_compare_cell(text, written.data, rows[model], loss)
    page.close()
    print(f"{case}: loaded in {loaded:.2f} s, {len(plots)} plots, written in {written.seconds:.2f} s")
