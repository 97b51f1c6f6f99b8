"""Pick the threshold that meets a target false-match rate on a deployment's own photos.

    python -m face.calibrate DIR --target-fmr 0.001 [--encoder sface|dlib] [--detector ...]

Same folder layout and encoding path as ``face.evaluate``. The chosen threshold is the most
permissive one whose measured FMR does not exceed the target; it is printed with the FNMR it
costs and as the ``[face]`` TOML line to paste into the kiosk configuration.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import numpy as np

from face.evaluate import Evaluation, add_arguments, evaluate, quiet_opencv, report, settings_from_args


def threshold_for_fmr(ev: Evaluation, target_fmr: float) -> float:
    """The most permissive threshold with FMR <= target on ``ev``'s impostor pairs.

    At most ``floor(target * n)`` impostor pairs may be accepted; the threshold sits halfway
    between the last impostor score that must be rejected and the next one, so it does not
    depend on which side of an exact tie a comparison falls.
    """
    imp = np.sort(ev.impostor)
    n = len(imp)
    if n == 0:
        raise ValueError("no impostor pairs: calibration needs at least two identities")
    allowed = math.floor(target_fmr * n)
    if ev.metric == "cosine":
        imp = imp[::-1]  # most similar first: those are the ones that would be accepted
    if allowed >= n:
        return float(imp[-1])
    reject = float(imp[allowed])  # the most alike impostor that must be rejected
    if allowed == 0:
        step = 1e-4
        return reject + step if ev.metric == "cosine" else reject - step
    accept = float(imp[allowed - 1])
    mid = (reject + accept) / 2
    if mid == reject:  # a tie: only strictly beyond it keeps the count within the target
        return float(np.nextafter(reject, np.inf if ev.metric == "cosine" else -np.inf))
    return mid


def main(argv: Sequence[str] | None = None) -> int:
    quiet_opencv()
    parser = argparse.ArgumentParser(prog="python -m face.calibrate", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    parser.add_argument("--target-fmr", type=float, default=0.001, help="e.g. 0.001 for 0.1 %% (default)")
    args = parser.parse_args(argv)
    if not args.dir.is_dir():
        parser.error(f"not a directory: {args.dir}")
    if not 0 < args.target_fmr < 1:
        parser.error("--target-fmr must be between 0 and 1")
    ev = evaluate(settings_from_args(args), args.dir)
    t = threshold_for_fmr(ev, args.target_fmr)
    r = ev.rates(t)
    print(report(ev, args.dir))
    print()
    target = f"target FMR {args.target_fmr * 100:.3f}%"
    print(f"{target}: threshold {t:.4f} -> FMR {r.fmr * 100:.3f}%, FNMR {r.fnmr * 100:.2f}%")
    # "Rule of three": with n impostor pairs and no errors, the 95 % upper bound on FMR is ~3/n.
    needed = math.ceil(3 / args.target_fmr)
    if len(ev.impostor) < needed:
        print(
            f"warning: {len(ev.impostor)} impostor pairs cannot show an FMR of {args.target_fmr:g}; "
            f"at least {needed} are needed (more identities)"
        )
    print(f"\n[face]\nencoder = {args.encoder!r}\nthreshold = {t:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
