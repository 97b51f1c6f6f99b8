"""1:1 and 1:N matching on float32 templates with precomputed norms: one matrix-vector product.

1:N is only ever run with a second factor (the last four digits of the phone number) that narrows
the candidates first, and it accepts the best match only if it clears the threshold *and* leads
the second best by a margin: with N enrolled people the chance of some false match grows as
``1 − (1 − FMR)^N`` (face.md §2.7), so an open 1:N search over a whole hospital is never made.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from face.types import MatchResult, Template, Vector

METRICS = ("cosine", "euclidean")


def _higher_is_better(metric: str) -> bool:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    return metric == "cosine"


def accepts(metric: str, score: float, threshold: float) -> bool:
    return score >= threshold if _higher_is_better(metric) else score <= threshold


def verify(probe: Template, reference: Template, metric: str, threshold: float) -> MatchResult:
    """1:1: is ``probe`` the person of ``reference``? Templates of different encoders never match."""
    if probe.encoder != reference.encoder or probe.dim != reference.dim:
        return MatchResult(False, float("nan"), threshold, metric, reason="encoder_mismatch")
    g = Gallery(metric, probe.dim)
    g.add("reference", reference.vector)
    score = float(g.scores(probe.vector)[0])
    ok = accepts(metric, score, threshold)
    return MatchResult(ok, score, threshold, metric, reason="" if ok else "below_threshold")


class Gallery:
    """Templates of one encoder as a contiguous ``(N, dim)`` float32 matrix and their squared norms.

    Cosine: rows are stored L2-normalised, so the score is the dot product. Euclidean:
    ``d² = ‖x‖² − 2·X·p + ‖p‖²`` with ``‖x‖²`` kept. Either way a search is one GEMV.
    """

    def __init__(self, metric: str, dim: int, capacity: int = 1024) -> None:
        _higher_is_better(metric)
        self.metric, self.dim = metric, dim
        self._matrix = np.zeros((capacity, dim), np.float32)
        self._norms = np.zeros(capacity, np.float32)
        self._subjects: list[str] = []
        self._by_factor: dict[str, list[int]] = {}  # second factor -> rows, so 1:N never scans all

    def __len__(self) -> int:
        return len(self._subjects)

    @property
    def matrix(self) -> npt.NDArray[np.float32]:
        return self._matrix[: len(self)]

    def _prepare(self, vector: Vector) -> Vector:
        v = np.asarray(vector, np.float32).reshape(-1)
        if v.shape[0] != self.dim:
            raise ValueError(f"template has {v.shape[0]} dimensions, the gallery {self.dim}")
        if self.metric == "cosine":
            n = float(np.linalg.norm(v))
            v = v / n if n > 0 else v
        return np.ascontiguousarray(v, np.float32)

    def add(self, subject: str, vector: Vector, factor: str | None = None) -> None:
        n = len(self)
        if n == self._matrix.shape[0]:
            self._matrix = np.concatenate([self._matrix, np.zeros_like(self._matrix)])
            self._norms = np.concatenate([self._norms, np.zeros_like(self._norms)])
        v = self._prepare(vector)
        self._matrix[n] = v
        self._norms[n] = float(v @ v)
        self._subjects.append(subject)
        if factor is not None:
            self._by_factor.setdefault(factor, []).append(n)

    @classmethod
    def from_matrix(cls, metric: str, matrix: npt.NDArray[np.float32], subjects: Sequence[str]) -> Gallery:
        """Bulk load (benchmarks, start-up): rows are normalised once for cosine."""
        g = cls(metric, int(matrix.shape[1]), capacity=max(len(subjects), 1))
        m = np.ascontiguousarray(matrix, np.float32)
        if metric == "cosine":
            norms = np.linalg.norm(m, axis=1, keepdims=True)
            m = (m / np.where(norms > 0, norms, 1)).astype(np.float32)
        g._matrix[: len(subjects)] = m
        g._norms[: len(subjects)] = np.einsum("ij,ij->i", m, m)
        g._subjects = list(subjects)
        return g

    def scores(self, probe: Vector, rows: npt.NDArray[np.intp] | None = None) -> npt.NDArray[np.float32]:
        """Similarity (cosine) or distance (euclidean) of ``probe`` to every row (or ``rows``)."""
        p = self._prepare(probe)
        matrix = self.matrix if rows is None else self.matrix[rows]
        dots = matrix @ p
        if self.metric == "cosine":
            return dots
        norms = self._norms[: len(self)] if rows is None else self._norms[rows]
        return np.sqrt(np.maximum(norms - 2 * dots + float(p @ p), 0.0))

    def search(self, probe: Vector, threshold: float, margin: float, factor: str | None) -> MatchResult:
        """1:N among the templates enrolled with ``factor`` (required: no open search)."""
        if factor is None:
            raise ValueError("1:N search needs a second factor")
        rows = np.array(self._by_factor.get(factor, []), np.intp)
        if rows.size == 0:
            return MatchResult(False, float("nan"), threshold, self.metric, reason="no_candidates")
        s = self.scores(probe, rows)
        order = np.argsort(-s if self.metric == "cosine" else s)
        best = float(s[order[0]])
        lead = abs(best - float(s[order[1]])) if rows.size > 1 else float("inf")
        if not accepts(self.metric, best, threshold):
            return MatchResult(False, best, threshold, self.metric, margin=lead, reason="below_threshold")
        if lead < margin:
            return MatchResult(False, best, threshold, self.metric, margin=lead, reason="ambiguous")
        subject = self._subjects[int(rows[order[0]])]
        return MatchResult(True, best, threshold, self.metric, subject=subject, margin=lead)

    def nearest(self, probe: Vector) -> tuple[int, float]:
        """Index and score of the closest row over the whole gallery (benchmarks and tests)."""
        s = self.scores(probe)
        i = int(np.argmax(s) if self.metric == "cosine" else np.argmin(s))
        return i, float(s[i])
