"""Before/after comparison refuses sessions that do not measure the same thing."""

import pytest

from hiprot.analysis.compare import ComparisonError, compare


def test_sessions_measured_against_different_references_are_not_compared():
    def report(reference):
        return {
            "session": {"name": reference, "activity": "walk"},
            "angles": {"hip_ir_reference": reference},
            "strides": {},
            "reps": [],
            "tests": [],
        }

    with pytest.raises(ComparisonError, match="different references"):
        compare(report("pelvis sensor"), report("direction of walking (no pelvis sensor)"))
