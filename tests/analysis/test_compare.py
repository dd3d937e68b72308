"""Before/after and history on hand-made reports: the change threshold, comparability, repeats,
compensated trials, excursions and the trend."""

import numpy as np
import pytest

from hiprot.analysis.change_threshold import KRAUSE, mdc95, pooled_sem
from hiprot.analysis.comparability import ComparisonError, session_facts
from hiprot.analysis.compare import compare, leg_values
from hiprot.analysis.history import history, repeat_differences, trend


def walk(reference, ranges=(10.0, 11.0, 12.0), name="w"):
    strides = [
        {"side": "right", "turning": False, "hip_ir_rom_deg": r, "hip_ir_max_deg": 50 + r}
        for r in ranges
    ]
    return {
        "session": {"name": name, "activity": "walk"},
        "angles": {"hip_ir_reference": reference},
        "strides": {"right": strides},
        "reps": [],
        "tests": [],
    }


def seated(name, peaks, start="2026-01-05T09:00:00+00:00", **extra):
    trials = [
        {"side": "right", "trial": k, "hip_ir_max_deg": p, "hip_er_max_deg": 40.0}
        for k, p in enumerate(peaks)
    ]
    for trial, (key, values) in ((t, kv) for kv in extra.items() for t in trials):
        trial[key] = values[trial["trial"]]
    return {
        "session": {
            "name": name,
            "activity": "seated-test",
            "start_utc": start,
            "sides": ["right"],
        },
        "angles": {"hip_ir_reference": "direction of walking (no pelvis sensor)"},
        "strides": {},
        "reps": [],
        "tests": trials,
    }


def ir_change(result):
    (found,) = [c for c in result["changes"] if c["key"] == "hip_ir_max_deg"]
    return found


def test_sessions_measured_against_different_references_are_not_comparable():
    result = compare(walk("pelvis sensor"), walk("direction of walking (no pelvis sensor)"))
    assert "different references" in result["reasons"][0]
    # and they measure different things (hip IR; thigh rotation): no change between them
    assert result["verdict"] == "not comparable" and result["changes"] == []


def test_a_change_beyond_the_published_mdc_is_probable_and_says_where_the_prior_is_from():
    found = ir_change(compare(seated("a", [30.0, 30.2, 29.8]), seated("b", [36.7, 36.9, 36.5])))
    assert found["mdc95_deg"] == pytest.approx(5.4, abs=0.01)
    assert found["verdict"] == "probable change"
    assert "+6.7° (from 30.0° to 36.7°) vs MDC95 5.4°" in found["line"]
    assert "inclinometer study" in found["line"]


def test_trials_alike_within_a_session_do_not_make_a_small_change_real():
    found = ir_change(compare(seated("a", [30.0, 30.1, 29.9]), seated("b", [33.0, 33.1, 32.9])))
    assert found["within_session_deg"] < 1.5 and found["verdict"] == "within measurement error"


def test_compensated_trials_count_and_the_pelvis_tilt_is_compared():
    """With a pelvis sensor a trial's figure is pelvis → femur, which the pelvis' tilt does not
    enter: a compensated trial counts, and the change says what the pelvis did instead."""
    before = seated(
        "a",
        [30.0, 30.0, 30.0],
        compensated=[True, True, False],
        pelvic_compensation_deg=[4.0, 4.4, 2.0],
    )
    after = seated(
        "b",
        [36.0, 37.0, 35.0],
        compensated=[False, True, False],
        pelvic_compensation_deg=[1.0, 3.0, 1.1],
    )
    found = ir_change(compare(before, after))
    assert found["before"]["n"] == 3 and found["after"]["n"] == 3
    assert found["change_deg"] == pytest.approx(6.0)
    assert found["before"]["compensated_trials"] == 2 and found["after"]["compensated_trials"] == 1
    assert found["before"]["pelvic_compensation_deg"] == pytest.approx(3.47, abs=0.01)
    assert (
        "pelvis tilted 3.5° → 1.7° a trial, compensated in 2 of 3 → 1 of 3 trials"
        in (found["line"])
    )
    plain = ir_change(compare(seated("a", [30.0] * 3), seated("b", [36.0] * 3)))
    assert plain["before"]["compensated_trials"] is None and "pelvis" not in plain["line"]


def test_walks_compare_excursions_not_peaks():
    result = compare(walk("pelvis sensor", name="a"), walk("pelvis sensor", (14, 15, 16), "b"))
    assert {c["key"] for c in result["changes"]} == {"hip_ir_rom_deg"}
    assert "best_change_deg" not in result["changes"][0]


def test_other_kinds_are_refused():
    with pytest.raises(ComparisonError, match="same kind"):
        compare(seated("a", [30.0, 31.0]), walk("pelvis sensor"))


def test_the_prior_is_pooled_with_own_repeats_by_degrees_of_freedom():
    assert pooled_sem(KRAUSE, []).sem_deg == KRAUSE.sem_deg
    own = pooled_sem(KRAUSE, [1.0, -1.0, 0.5])
    expected = (25 * KRAUSE.sem_deg**2 + 3 * (2.25 / 6)) / 28
    assert own.sem_deg == pytest.approx(np.sqrt(expected))
    assert own.own_dof == 3 and "3 same-day repeats" in own.source()
    assert mdc95(KRAUSE.sem_deg) == pytest.approx(5.4)


def test_only_explicit_same_day_repeats_count_as_own_test_retest():
    first = seated("first", [30.0, 30.0], "2026-01-05T09:00:00+00:00")
    repeat = seated("again", [31.0, 31.0], "2026-01-05T09:30:00+00:00")
    unmarked = seated("later", [35.0, 35.0], "2026-01-05T09:40:00+00:00")
    weeks = seated("weeks", [34.0, 34.0], "2026-02-05T09:00:00+00:00")
    entries = []
    for report, of in ((first, None), (repeat, "first"), (unmarked, None), (weeks, "first")):
        facts = session_facts(None, report)
        facts.repeat_of = of
        entries.append((report, facts))
    assert repeat_differences(entries)[("seated-test", "right", "hip_ir_max_deg")] == [1.0]
    result = history(entries)
    (ir,) = [s for s in result["series"] if s["key"] == "hip_ir_max_deg"]
    assert [p["session"] for p in ir["points"]] == ["first", "later", "weeks"]  # not the repeat
    assert "1 same-day repeat of yours" in ir["sem_source"]


def test_trend_per_week_with_its_interval():
    weeks = np.arange(8.0)
    values = 30 + 1.0 * weeks + np.array([0.5, -0.5, 0.2, -0.2, 0.4, -0.4, 0.1, -0.1])
    found = trend(weeks, values)
    lo, hi = found["ci90_deg_per_week"]
    assert lo < 1.0 < hi and lo > 0
    assert trend(weeks[:2], values[:2]) is None


def test_strides_are_clustered_by_walking_bout_not_independent():
    report = walk("pelvis sensor", [10.0] * 10 + [12.0] * 10)
    report["strides"]["right"].insert(10, {"side": "right", "turning": True, "hip_ir_rom_deg": 30})
    values = leg_values(report, "right", "strides", "hip_ir_rom_deg")
    assert len(values.values) == 20 and set(values.bouts) == {0, 1}
    assert values.stats()["se_deg"] == pytest.approx(1.0)  # two bout means 10 and 12, not n = 20
