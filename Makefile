# Two commands for a new user: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501
# The Japanese web font the portal serves itself (portal/webfonts.py), fetched once with npm.
FONTS  := web/fonts/noto-sans-jp.css
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the browser tests need: Chromium, and CJK fonts so Japanese is not boxes;
# wrk drives the live xAPI load in `manabi bench`; OpenJDK runs Spark for the lake's board (lake/).
# Node.js and npm come with the machine (npm installs axe-core, package.json, and the web font):
# Debian's npm conflicts with the machine's nodejs, so it is not asked for here.
APT_PACKAGES := chromium fonts-noto-cjk wrk openjdk-17-jre-headless
NODE_STAMP   := node_modules/.installed

.PHONY: install run test test-dates check lint system-deps clean

# The suite passes on any day: it runs at a pinned time (tests/conftest.py), and its
# date-sensitive parts run again at a fiscal year's start, New Year's Eve and a leap day.
TEST_DATES  := 2027-04-01T09:00:00+09:00 2026-12-31T10:00:00+09:00 2028-02-29T10:00:00+09:00
DATED_TESTS := tests/facilities tests/library_ebooks tests/school_ict tests/portal tests/kernel \
               tests/archive/test_items.py tests/analytics/test_dashboards.py tests/analytics/test_pages.py \
               tests/analytics/test_lrs.py

$(STAMP): pyproject.toml setup.py analytics/services/_xapi_scan.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(FONTS): portal/webfonts.py | $(STAMP)
	$(BIN)/python -m portal.webfonts

# What a server needs: the venv and the web font (the city's service installs with `make install`).
install: $(STAMP) $(FONTS)

# First start: a database with no accounts gets the demo city (a few minutes at city scale).
run: $(STAMP) $(FONTS)
	$(BIN)/manabi serve --port $(PORT) --demo city

system-deps:
	@dpkg -s $(APT_PACKAGES) >/dev/null 2>&1 || { \
	  echo "Installing $(APT_PACKAGES) from Debian..."; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES); }

lint: $(STAMP)
	$(BIN)/ruff check .

# The browser tools the tests use, at the versions package-lock.json pins.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

test: $(STAMP) $(FONTS) system-deps $(NODE_STAMP) lint
	$(BIN)/pytest
	$(MAKE) test-dates

test-dates: $(STAMP)
	@for now in $(TEST_DATES); do \
	  echo "== the date-sensitive tests at $$now"; \
	  MANABI_TEST_NOW=$$now $(BIN)/pytest -q -m "not e2e" $(DATED_TESTS) || exit 1; \
	done

clean:
	rm -rf $(VENV) node_modules var/test-artifacts .pytest_cache web/fonts
