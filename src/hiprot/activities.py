"""What the person was doing, and when: the session's activity and labelled stretches of it.

A session has one activity (``session.json``, the command line) or none; labelled segments
(``segments.jsonl``, the wearer's loop: test, exercises, re-test in one recording) give their
stretches their own. The kinematics needs it per sample, because the rotation-test reference
holds only inside rotation tests and the working leg of standing IR activations — live, the
recorder switches the pipeline's activity as segments start; batch, this timeline does the same.
The segments file's name and the source of an activity nobody gave live here too, below the
recording and analysis layers that both name them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS_FILE = "segments.jsonl"  # a session's labelled segments (hiprot.recording.segments)
INFERRED = "inferred from the data"  # an analysed activity's source when nobody gave it


@dataclass(frozen=True)
class ActivityTimeline:
    """``default`` everywhere except in ``spans`` — ``(start_s, end_s, activity)`` on the session
    clock, a later span winning where two overlap."""

    default: str | None = None
    spans: tuple[tuple[float, float, str], ...] = ()

    @classmethod
    def of(cls, activity: ActivityTimeline | str | None) -> ActivityTimeline:
        """``activity`` as a timeline (a single activity holds everywhere)."""
        return activity if isinstance(activity, ActivityTimeline) else cls(activity)

    def at(self, time_s: np.ndarray) -> np.ndarray:
        """The activity of every sample (an object array, None where unknown)."""
        out = np.full(len(time_s), self.default, dtype=object)
        for start, end, activity in self.spans:
            out[(time_s >= start) & (time_s <= end)] = activity
        return out

    def blocks(self, time_s: np.ndarray) -> list[tuple[int, int, str | None]]:
        """Runs of consecutive samples of one activity: ``(first, end, activity)`` indices."""
        if not self.spans:
            return [(0, len(time_s), self.default)]
        per_sample = self.at(time_s)
        change = np.flatnonzero(per_sample[1:] != per_sample[:-1]) + 1
        edges = [0, *change.tolist(), len(per_sample)]
        return [(a, b, per_sample[a]) for a, b in zip(edges[:-1], edges[1:]) if b > a]
