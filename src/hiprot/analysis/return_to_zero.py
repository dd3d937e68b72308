"""The return-to-zero self-check in the report: every still standing rest of a session
(start, end, pauses) should read the joint angles the first standing read.

Each later rest re-establishes hip IR zero, so its own angles read zero by
construction; the check uses instead the angles each rest reads with the heading
reference carried into it from before (:class:`~hiprot.kinematics.angles.RestReading`),
independent of that rest. A discrepancy above ``WARN_DEG`` is warned about: the
requirement of issue #14, inside the 2-5° band McGinley et al. (Gait Posture
29:360-369, 2009) call reasonable but needing consideration for gait kinematics.
"""

from __future__ import annotations

from hiprot.kinematics.angles import SessionAngles

WARN_DEG = 3.0


def return_to_zero(angles: SessionAngles | None) -> dict | None:
    """``report.json``'s ``return_to_zero``: per rest its span and discrepancies (degrees),
    and per angle the largest; None without angles."""
    if angles is None:
        return None
    largest: dict[str, float] = {}
    for rest in angles.rests:
        for name, value in rest.angles_deg.items():
            largest[name] = max(largest.get(name, 0.0), round(abs(value), 2))
    return {
        "warn_above_deg": WARN_DEG,
        "rests": [
            {"start_s": round(r.start_s, 2), "end_s": round(r.end_s, 2), "angles_deg": r.angles_deg}
            for r in angles.rests
        ],
        "max_abs_deg": largest,
    }


def warnings(check: dict | None) -> list[str]:
    """One warning per rest and angle whose discrepancy exceeds ``WARN_DEG``."""
    out = []
    for rest in (check or {}).get("rests", []):
        for name, value in rest["angles_deg"].items():
            if abs(value) > WARN_DEG:
                out.append(
                    f"return to zero: {name} reads {value:+.1f}° in the still standing at "
                    f"{rest['start_s']:.0f}-{rest['end_s']:.0f} s against the first standing "
                    f"(more than {WARN_DEG:g}°): a sensor may have slipped, or the person stood "
                    "differently"
                )
    return out
