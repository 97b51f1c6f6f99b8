"""Verification accuracy of the configured pipeline on a folder of labelled photos.

    python -m face.evaluate DIR [--encoder sface|dlib] [--detector yunet|hog] [--threshold T]

DIR holds one folder per identity (nesting is allowed: every folder that directly contains
images is one identity, named by its path under DIR). Each photo goes through
``encode_still``, the path the kiosk uses for enrolment and ID-card photos, so the numbers
include detection, alignment and the still-photo resizing. Every within-identity pair is a
genuine attempt and every cross-identity pair an impostor attempt; photos without a face are
failures to enrol (FTE) and take part in no pair.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from face.detect import make_detector
from face.encoders import Encoder, encode_still, make_encoder
from face.settings import DETECTORS, ENCODERS, FaceSettings

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
OTHER_THRESHOLDS = {
    "cosine": (0.363, 0.40, 0.45, 0.50, 0.55),  # 0.363: opencv_zoo's SFace default
    "euclidean": (0.35, 0.40, 0.45, 0.50, 0.55, 0.60),  # 0.6: dlib's usual default
}


@dataclass(frozen=True)
class Rates:
    threshold: float
    fnmr: float
    fmr: float
    false_non_matches: int
    false_matches: int


@dataclass(frozen=True, eq=False)
class Evaluation:
    encoder: str
    metric: str
    threshold: float  # the encoder's effective threshold
    images: int
    identities: int
    failures: list[Path]  # photos with no usable face (failures to enrol)
    genuine: npt.NDArray[np.float64]  # scores of all genuine pairs
    impostor: npt.NDArray[np.float64]
    seconds_per_image: float  # median: detect_still + encode, image decoding excluded

    def rates(self, threshold: float) -> Rates:
        if self.metric == "cosine":
            fnm, fm = int((self.genuine < threshold).sum()), int((self.impostor >= threshold).sum())
        else:
            fnm, fm = int((self.genuine > threshold).sum()), int((self.impostor <= threshold).sum())
        return Rates(threshold, fnm / max(len(self.genuine), 1), fm / max(len(self.impostor), 1), fnm, fm)


def identity_images(root: Path) -> dict[str, list[Path]]:
    """identity -> its images; an identity is any folder under ``root`` with images directly in it."""
    found: dict[str, list[Path]] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and p.parent != root:
            found.setdefault(p.parent.relative_to(root).as_posix(), []).append(p)
    return found


Encoded = tuple[Encoder, list[str], list[npt.NDArray[np.float32]], list[Path], list[float]]


def templates(settings: FaceSettings, root: Path) -> Encoded:
    """Encode every photo under ``root``: (encoder, labels, vectors, failures, seconds per image)."""
    detector, encoder = make_detector(settings), make_encoder(settings)
    labels: list[str] = []
    vectors: list[npt.NDArray[np.float32]] = []
    failures: list[Path] = []
    seconds: list[float] = []
    for identity, paths in identity_images(root).items():
        for p in paths:
            img = cv2.imread(str(p), cv2.IMREAD_COLOR)
            if img is None:
                failures.append(p)
                continue
            t0 = time.perf_counter()
            template, _ = encode_still(img, detector, encoder)
            seconds.append(time.perf_counter() - t0)
            if template is None:
                failures.append(p)
            else:
                labels.append(identity)
                vectors.append(template.vector)
    return encoder, labels, vectors, failures, seconds


def pair_scores(
    metric: str, labels: Sequence[str], vectors: Sequence[npt.NDArray[np.float32]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Scores of all genuine and all impostor pairs (each unordered pair once)."""
    if not vectors:
        return np.zeros(0), np.zeros(0)
    x = np.stack(vectors).astype(np.float64)
    if metric == "cosine":
        x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        s = x @ x.T
    else:
        sq = (x * x).sum(1)
        s = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0))
    lab = np.asarray(labels)
    i, j = np.triu_indices(len(lab), k=1)
    same = lab[i] == lab[j]
    return s[i, j][same], s[i, j][~same]


def evaluate(settings: FaceSettings, root: Path) -> Evaluation:
    encoder, labels, vectors, failures, seconds = templates(settings, root)
    genuine, impostor = pair_scores(encoder.metric, labels, vectors)
    return Evaluation(
        encoder=encoder.name,
        metric=encoder.metric,
        threshold=encoder.threshold,
        images=len(labels) + len(failures),
        identities=len(set(labels)),
        failures=failures,
        genuine=genuine,
        impostor=impostor,
        seconds_per_image=float(np.median(seconds)) if seconds else 0.0,
    )


def report(ev: Evaluation, root: Path) -> str:
    better = "similarity, accept >=" if ev.metric == "cosine" else "distance, accept <="
    lines = [
        f"{root}: {ev.images} images, {ev.identities} identities",
        f"encoder {ev.encoder}: {ev.metric} {better} threshold",
        f"failures to enrol: {len(ev.failures)}" + "".join(f"\n  {p.relative_to(root)}" for p in ev.failures),
        f"pairs: {len(ev.genuine)} genuine, {len(ev.impostor)} impostor",
        f"time per image (detect + encode, median): {ev.seconds_per_image * 1000:.1f} ms",
        "",
        f"{'threshold':>10} {'FNMR':>8} {'(false non-matches)':>20} {'FMR':>8} {'(false matches)':>16}",
    ]
    shown = sorted({ev.threshold, *OTHER_THRESHOLDS[ev.metric]}, reverse=ev.metric == "cosine")
    for t in shown:
        r = ev.rates(t)
        mark = "  <- configured" if t == ev.threshold else ""
        fnmr, fmr = f"{r.fnmr * 100:.2f}%", f"{r.fmr * 100:.3f}%"
        lines.append(f"{t:>10.3f} {fnmr:>8} {r.false_non_matches:>20} {fmr:>8} {r.false_matches:>16}{mark}")
    return "\n".join(lines)


def settings_from_args(args: argparse.Namespace) -> FaceSettings:
    s = FaceSettings(encoder=args.encoder, detector=args.detector, threshold=args.threshold)
    if args.encoder_model is not None:
        s = replace(s, encoder_model=args.encoder_model)
    if args.cache_dir is not None:
        s = replace(s, cache_dir=args.cache_dir)
    return s


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, help="one folder of photos per identity")
    parser.add_argument("--encoder", choices=ENCODERS, default=FaceSettings.encoder)
    parser.add_argument("--detector", choices=DETECTORS, default=FaceSettings.detector)
    parser.add_argument("--encoder-model", type=Path, help="another model file for the encoder")
    parser.add_argument("--threshold", type=float, help="default: the encoder's shipped threshold")
    parser.add_argument("--cache-dir", type=Path, help=f"prepared models (default {FaceSettings.cache_dir})")


def quiet_opencv() -> None:
    """Command line only: OpenCV 5 warns on every net it loads that targets are unsupported."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    quiet_opencv()
    parser = argparse.ArgumentParser(prog="python -m face.evaluate", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"not a directory: {args.dir}")
    ev = evaluate(settings_from_args(args), args.dir)
    print(report(ev, args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
