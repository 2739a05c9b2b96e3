# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_DEBUG ?= 1

.PHONY: run test test-fast worker beat lint format messages check-messages screenshots lock clean

# Installs exactly the versions CI tested, checked against their hashes (requirements/*.lock).
$(VENV)/.installed: pyproject.toml requirements/dev.lock
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements/dev.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# After changing a dependency in pyproject.toml: pin it and everything it needs, with hashes.
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		--extra dev --extra prod -o requirements/dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		--extra prod -o requirements/prod.lock

# make run PORT=8001 serves on another port (links in the demo e-mails follow it).
PORT ?= 8000
run: export TIPLINE_SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite runs on every core (pytest-xdist, one test database and one cache database per
# process); races on PostgreSQL and the browser run share one process (tests/conftest.py).
TEST_WORKERS ?= auto
XDIST = -n $(TEST_WORKERS) --dist loadgroup

test: $(VENV)/.installed
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# Everything but the browser, the real worker, the fault runs and the property tests.
test-fast: $(VENV)/.installed
	$(PY) -m pytest $(XDIST) -m "not slow" $(PYTEST_ARGS)

# Celery worker and beat against CELERY_BROKER_URL (Redis). Without a broker (make run) tasks run
# in-process and neither is needed. Beat's schedule is CELERY_BEAT_SCHEDULE in config/settings.py.
NEEDS_BROKER = @test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. \
redis://127.0.0.1:6379/0); without it tasks run in-process and no $@ is needed."; exit 1; }

worker: $(VENV)/.installed
	$(NEEDS_BROKER)
	$(VENV)/bin/celery -A config worker -l info --concurrency $${CELERY_CONCURRENCY:-2}

beat: $(VENV)/.installed
	$(NEEDS_BROKER)
	mkdir -p $${TIPLINE_VAR_DIR:-var}
	$(VENV)/bin/celery -A config beat -l info --schedule $${TIPLINE_VAR_DIR:-var}/celerybeat-schedule

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Needs GNU gettext (apt-get install gettext); the compiled .mo files are committed.
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests \
		--ignore=bench --ignore=scripts --ignore=docs
	$(PY) manage.py compilemessages --ignore=.venv

# PNGs of the main citizen (phone) and staff (desktop) pages into docs/screenshots/, taken in
# Debian's Chromium (/usr/bin/chromium) from the demo data through the end-to-end set-up. Needs a
# Chinese font (fonts-wqy-microhei).
screenshots: $(VENV)/.installed
	@test -x /usr/bin/chromium || { echo "Needs Debian's chromium (apt-get install chromium)"; exit 1; }
	@test -n "$$(fc-list :lang=zh 2>/dev/null)" || { echo "Needs a Chinese font, or every \
character shows as a box (apt-get install fonts-wqy-microhei)"; exit 1; }
	TIPLINE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -p no:cacheprovider \
		tests/e2e/test_screenshots.py

# Fails on any message missing from the Chinese catalogue, fuzzy, or not compiled (CI runs it).
check-messages: $(VENV)/.installed
	scripts/check_messages.sh

clean:
	rm -rf $(VENV) var
