# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up first.
.PHONY: setup demo test tour lint bench chaos translations clean deb

PY := .venv/bin/python

setup:
	@bash packaging/bootstrap.sh

demo: setup
	$(PY) main.py --demo

tour: setup
	QT_QPA_PLATFORM=offscreen $(PY) main.py --demo --tour tour

# The PostgreSQL and browser halves of the suite fail here instead of skipping when their
# packages are missing, so CI can never pass by leaving them out.
test: setup lint
	QT_QPA_PLATFORM=offscreen KIOSK_REQUIRE_POSTGRES=1 KIOSK_REQUIRE_BROWSER=1 $(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy devices face offline_cache sync server kiosk_app

bench: setup
	$(PY) bench/startup.py
	$(PY) bench/server_load.py
	$(PY) bench/outbox_drain.py
	$(PY) bench/face_bench.py

# Several minutes: 200 kill -9 and 50 network faults, then the lost/duplicated/mismatched/stuck check.
chaos: setup
	$(PY) bench/chaos.py --kills 200 --faults 50

# The Debian packages (issue #8): build/deb/hospital-kiosk{,-python,-server}_<version>_amd64.deb
deb: setup
	bash packaging/build-deb.sh

translations: setup
	.venv/bin/pyside6-lupdate -no-obsolete $$(git ls-files 'kiosk_app/*.py') -ts kiosk_app/translations/kiosk_zh_CN.ts

clean:
	rm -rf .venv var tour .pytest_cache .mypy_cache .ruff_cache
