# Set-up and everyday tasks. `make demo` and `make test` each work on a fresh clone.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOSSCLI := $(VENV)/bin/losscli
# The CPU build of torch: pip takes 2.13.0 from this machine's local wheel store.
TORCH := torch==2.13.0
S := sample_data
# tests/test_report.py opens a report in Debian's Chromium, which Playwright drives (no browser of its own is
# downloaded): installed when missing, where apt-get can (as root, as CI runs); else that test is skipped, saying why.
CHROMIUM := command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	|| echo "chromium could not be installed: the browser test will be skipped"

.PHONY: install demo test test-slow bench bench-ci bench-dask clean

install: $(VENV)/.installed

# An editable install is not byte-compiled: compileall does it once, as pip does for a
# wheel, so that no run has to (PYTHONDONTWRITEBYTECODE stops Python caching it itself).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[test,dask]"
	$(PY) -m compileall -q losscli
	$(CHROMIUM)
	touch $@

demo: install
	$(LOSSCLI) compute mse $(S)/regression_pred.csv $(S)/regression_labels.csv --rows 5
	$(LOSSCLI) compute smooth_l1 $(S)/regression.csv --label-col y --no-grad
	$(LOSSCLI) compute cross_entropy $(S)/multiclass_logits.csv $(S)/multiclass_labels.txt --rows 3
	$(LOSSCLI) compute bce_with_logits $(S)/binary_logits.csv $(S)/binary_labels.csv --no-grad
	$(LOSSCLI) recommend $(S)/multiclass_labels.txt --pred $(S)/multiclass_logits.csv
	$(LOSSCLI) compare $(S)/regression_pred.csv $(S)/regression_pred_b.csv $(S)/regression_pred_c.csv --labels $(S)/regression_labels.csv --baseline $(S)/regression_pred.csv
	$(LOSSCLI) compute margin_ranking $(S)/ranking_scores1.csv $(S)/ranking_labels.csv --input input2=$(S)/ranking_scores2.csv --no-grad
	$(LOSSCLI) compute nll2d $(S)/nll2d_log_probs.npy $(S)/nll2d_labels.npy --no-grad
	$(LOSSCLI) compute ctc $(S)/ctc_log_probs.npy $(S)/ctc_targets.csv --input input_lengths=$(S)/ctc_input_lengths.csv --input target_lengths=$(S)/ctc_target_lengths.csv --no-grad

# On every core: pytest-xdist's workers, the Dask tests kept together in one (their session cluster).
test: install
	$(PY) -m pytest -q -n auto --dist loadgroup

# The property-based tests of tests/test_properties.py in Hypothesis' slow profile: 10 000 examples per test.
test-slow: install
	LOSSCLI_SLOW=1 $(PY) -m pytest -q tests/test_properties.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

bench: install
	$(PY) bench/run.py

# What --ci costs (compare of 5 models x 3 losses on 1M rows) and how often its intervals cover the truth.
bench-ci: install
	$(PY) bench/ci.py
	$(PY) bench/ci.py --coverage 2000

# Sharded inputs on Dask: 100M rows in 20 Parquet shards per role (about 1.6 GB written once), and the pieces
# of the scaling model in bench/RESULTS.md.
bench-dask: install
	$(PY) bench/dask_bench.py
	$(PY) bench/dask_bench.py --model
