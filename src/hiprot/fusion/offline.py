"""Batch fusion of a whole recorded stream with VQF's offline variant, in two passes.

Live, a filter only knows the past: between two still rests it subtracts the gyroscope
bias learnt at the earlier one, so a bias that moves meanwhile (a strapped sensor warms by
a few degrees over the first minutes and its bias follows) turns the six-axis heading, which
nothing observes. A recorded session is whole, so batch analysis uses VQF's offline variant
(``vqf.offlineVQF``; Laidig & Seel 2023, Information Fusion 91:187-204, section on the
offline variant): rest detection and bias estimation run forwards and backwards and the
orientation is computed with the smoothed bias, so the rest after a movement corrects the
bias during it. The first pass has the live filter's rest criteria and bias bounds
(:meth:`~hiprot.fusion.vqf_filter.VqfFilter.bias_params`).

That rest detection accepts any smooth movement slower than the chip's bias bound (VQF's
``biasClip``: 2 °/s for a good chip, 30 °/s for an MPU-6050) and learns its rate as bias:
the end of a slow return from a test trial, a thigh settling on a chair, a pelvis turning
slowly with a tested hip. Tens of seconds later such a bias has turned the heading by
degrees. But once the sensor has been still, its bias can only move as far as its
temperature coefficient allows (:func:`~hiprot.chip_catalogue.gyro_drift_bound_dps`). So a
second pass is anchored: the longest span in which every sensor of the session rested at
once in the first pass (:func:`whole_body_rest`: the still standing; a pelvis turning
slowly while the tested leg moves is no rest of the body) gives each sensor's bias as its
mean rate there (sway averages out over the span); with that bias taken off its rates, the
second pass accepts as rest only what stays within the drift bound of it (``biasClip`` set
to the bound). The heading errors before and after, on the simulator's people, are in
docs/methods.md (``scripts/fusion_anchor.py``). Limits: a slow movement of the whole body
adjoining the still standing merges into its rest and into the anchor (so does any slow
movement of a sensor worn alone); a sensor swaying while standing stays above the narrowed
bound, so later standing rests refine little and the anchor's own error stays.

The steps are the live filter's (:class:`~hiprot.fusion.timeline.StepPlanner`: gaps up to
``max_gap_s`` bridged; the bias of a still start, :mod:`~hiprot.fusion.still_start`, left out
of the scaling by each sample's true interval). The offline variant needs contiguous data,
so a longer gap splits the stream; each part after it starts from the heading and the
gyroscope bias the part before ended with (that bias taken off its rates), as the live filter
carries both across such a gap (and re-levels); parts after the anchor's stay narrowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import numpy as np
from vqf import offlineVQF

from hiprot import quat
from hiprot.fusion.still_start import StillStart
from hiprot.fusion.timeline import MAX_GAP_S, StepPlanner
from hiprot.fusion.vqf_filter import VqfFilter
from hiprot.samples import ImuSamples

# The shortest whole-body rest that anchors the second pass: the still standing a session
# starts with (3 s asked for; the calibration's standing takes 2.5 s of it).
ANCHOR_MIN_S = 2.5

Span = tuple[float, float]  # start and end time (s) of a rest


class OfflineFusion:
    """One sensor's whole stream: the first pass runs on construction (its rests:
    :meth:`rests`); :meth:`orientation` gives the anchored second pass."""

    def __init__(
        self,
        samples: ImuSamples,
        rate_hz: float,
        magnetometer: bool = False,
        max_bias_dps: float = 2.0,
        max_gap_s: float = MAX_GAP_S,
    ):
        planner = StepPlanner(1.0 / rate_hz, max_gap_s)
        still = StillStart(np.radians(max_bias_dps))
        still.take(samples)
        if still.bias is not None:  # left out of the timing's scaling, as live
            planner.bias = still.bias
        self.steps = planner.plan(samples)
        self.step_s = 1.0 / rate_hz
        self.use_mag = magnetometer and self.steps.mag is not None
        owner = np.searchsorted(self.steps.sample_end, np.arange(len(self.steps)), side="right")
        self.step_time = samples.time_s[owner]
        bounds = [0, *np.flatnonzero(self.steps.restart), len(self.steps)]
        self.parts = [slice(a, b) for a, b in pairwise(bounds) if a < b]
        self.wide = VqfFilter.bias_params(max_bias_dps) or None
        self.first_q, self.first_rest = self._run(None, None)

    def rests(self) -> list[Span]:
        """The first pass's rests, as time spans, each inside one part (none across a gap)."""
        flags = self.first_rest.astype(np.int8)
        flags[[p.start for p in self.parts[1:]]] = 0
        edges = np.diff(np.r_[0, flags, 0])
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        times = self.step_time
        return [(times[a], times[b - 1]) for a, b in zip(starts, ends, strict=True)]

    def orientation(
        self, still: Span | None = None, max_drift_dps: float | None = None
    ) -> np.ndarray:
        """``q_ES`` (n, 4) after each sample: anchored at the mean rate over ``still`` with
        rests within ``max_drift_dps`` of it; the first pass's where either is None."""
        q = self.first_q
        if still is not None and max_drift_dps is not None:
            q, _ = self._run(still, max_drift_dps)
        return q[self.steps.sample_end - 1]

    def _run(
        self, still: Span | None, max_drift_dps: float | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """offlineVQF over each part, heading and bias carried across gaps; from the part
        holding ``still`` on, its mean rate there taken off and the rests narrowed."""
        steps, bias, anchored = self.steps, np.zeros(3), False
        quats, rests = [], []
        for part in self.parts:
            gyr = steps.gyr[part] - bias
            if still is not None and not anchored:
                time = self.step_time[part]
                inside = (time >= still[0]) & (time <= still[1])
                if inside.any():
                    anchor = gyr[inside].mean(axis=0)
                    gyr, bias, anchored = gyr - anchor, bias + anchor, True
            params = {"biasClip": max_drift_dps} if anchored else self.wide
            mag = steps.mag[part] if self.use_mag else None
            out = offlineVQF(np.ascontiguousarray(gyr), steps.acc[part], mag, self.step_s, params)
            bias = bias + out["bias"][-1]  # carried across a gap, as live
            q = out["quat9D"] if self.use_mag else out["quat6D"]
            if quats and not self.use_mag:
                q = quat.multiply(_yaw_between(q[0], quats[-1][-1]), q)
            quats.append(q)
            rests.append(np.asarray(out["restDetected"], bool))
        return np.concatenate(quats), np.concatenate(rests)


def whole_body_rest(fusions: Iterable[OfflineFusion], min_s: float = ANCHOR_MIN_S) -> Span | None:
    """The longest span, ``min_s`` or longer, in which every sensor rested in its first pass."""
    common: list[Span] | None = None
    for fusion in fusions:
        spans = fusion.rests()
        common = spans if common is None else _intersect(common, spans)
    long = [s for s in common or [] if s[1] - s[0] >= min_s]
    return max(long, key=lambda s: s[1] - s[0]) if long else None


def offline_orientation(
    samples: ImuSamples,
    rate_hz: float,
    magnetometer: bool = False,
    max_bias_dps: float = 2.0,
    max_drift_dps: float | None = None,
    max_gap_s: float = MAX_GAP_S,
) -> np.ndarray:
    """``q_ES`` (n, 4) after each of one stream's ``samples`` on its own (its longest rest is
    the whole body's); ``magnetometer``: 9-axis where the samples carry magnetometer data;
    ``max_drift_dps``: the chip's drift bound (None: the first pass only)."""
    fusion = OfflineFusion(samples, rate_hz, magnetometer, max_bias_dps, max_gap_s)
    return fusion.orientation(whole_body_rest([fusion]), max_drift_dps)


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    """The spans in both sorted, non-overlapping lists."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _yaw_between(q_from: np.ndarray, q_to: np.ndarray) -> np.ndarray:
    """The rotation about the earth's vertical taking ``q_from``'s heading to ``q_to``'s
    (the vertical part of ``q_to ⊗ q_from*``)."""
    d = quat.multiply(q_to, quat.conjugate(q_from))
    half = np.arctan2(d[3], d[0])
    return np.array([np.cos(half), 0.0, 0.0, np.sin(half)])
