# Two entry points (see README): `make book` and `make test`. Both create .venv and install on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SANITIZE := tests/nbval_sanitize.cfg
# The training chapters, executed a second time under other CPU kernels and thread counts (a stand-in for a
# reader's machine): their stored outputs must hold there too (3 significant digits for trained numbers).
NBVAL_OTHER_CPU := notebooks/04_combined_loss.ipynb notebooks/05_ablation.ipynb \
                   notebooks/07_where_conservation_helps.ipynb notebooks/08_learned_conserved_quantities.ipynb
OTHER_CPU_ENV := ATEN_CPU_CAPABILITY=default OMP_NUM_THREADS=2
# Quiet, deterministic runs: no progress bars, one thread (tiny problems; reproducible float reductions).
export TQDM_DISABLE := 1
export OMP_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: install book test unit nbval book-strict bench clean html-check screenshots

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test,dask]"
	@touch $(STAMP)

## Build the book: execute notebooks (CPU defaults, cached) and render HTML to _build/html.
book: $(STAMP)
	$(BIN)/jupyter-book build .

## All tests: unit tests, strict nbval against the stored outputs (and again for the training notebooks under
## other CPU kernels and 2 threads), warnings-as-errors book build, the reader's-eye check (layout in Chromium).
## The book build (which executes every notebook again) runs beside pytest, on the second core; its log is shown
## in full only if it fails.  The second execution (2 threads) starts after both, so that its threads do not
## fight the build for a core (OpenMP threads that wait for each other on a busy machine run many times slower).
test: $(STAMP)
	@mkdir -p _build
	@($(BIN)/jupyter-book build . -W -n --keep-going > _build/book-test.log 2>&1; echo $$? > _build/book-test.rc) & \
	$(BIN)/python -m pytest tests/ notebooks/ --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) -q; \
	tests=$$?; wait; book=$$(cat _build/book-test.rc); \
	echo "second execution of the training notebooks under $(OTHER_CPU_ENV) (both cores, after the build):"; \
	$(OTHER_CPU_ENV) $(BIN)/python -m pytest $(NBVAL_OTHER_CPU) --nbval --nbval-current-env \
	    --nbval-sanitize-with $(SANITIZE) -q -p no:cacheprovider; other=$$?; \
	if [ "$$book" != 0 ]; then cat _build/book-test.log; echo "book build (jupyter-book build . -W -n) FAILED"; \
	else echo "book build (jupyter-book build . -W -n --keep-going) succeeded"; fi; \
	$(BIN)/python tools/html_check.py _build/html; html=$$?; \
	test "$$other" = 0 || echo "stored outputs do not hold under $(OTHER_CPU_ENV)"; \
	test "$$tests" = 0 && test "$$other" = 0 && test "$$book" = 0 && test "$$html" = 0

## The reader's-eye check alone, over an existing build (raw Markdown/LaTeX, tables, images, offline MathJax,
## placeholder links; layout in headless Chromium when it is installed).
html-check: $(STAMP)
	$(BIN)/python tools/html_check.py _build/html

unit: $(STAMP)
	$(BIN)/python -m pytest tests/ -q

nbval: $(STAMP)
	$(BIN)/python -m pytest notebooks/ --nbval --nbval-current-env --nbval-sanitize-with $(SANITIZE) -q

bench: $(STAMP)
	$(BIN)/python benchmarks/loss_step.py
	$(BIN)/python benchmarks/batched_sweep.py
	$(BIN)/python benchmarks/compiler.py
	$(BIN)/python benchmarks/ensemble.py

## Full-page screenshots of every built page into _build/screenshots/ (headless Chromium driven over its DevTools
## pipe, after MathJax has typeset; not part of `make test`).  Needs Debian's chromium, installed as root with
## `apt-get update && apt-get install -y chromium`.  Run `make book` first.
screenshots: $(STAMP)
	@test -d _build/html || { echo "no _build/html: run make book first"; exit 1; }
	$(BIN)/python tools/screenshots.py _build/html _build/screenshots

clean:
	rm -rf _build
