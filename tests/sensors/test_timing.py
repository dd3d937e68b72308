"""Sample timestamps from FIFO counts and read times: exact for an ideal chip, tracking a drift."""

from __future__ import annotations

import numpy as np
import pytest

from hiprot.sensors.timing import SampleTimer


def run(true_rate_hz: float, nominal_hz: float, seconds: float, jitter_s: float, seed: int = 3):
    """Read a chip ticking at ``true_rate_hz`` every ~50 ms; return (true, stamped) sample times."""
    rng = np.random.default_rng(seed)
    timer = SampleTimer(1.0 / nominal_hz)
    truth = 0.0021 + np.arange(int(seconds * true_rate_hz)) / true_rate_hz
    stamped, taken = [], 0
    for start in (
        np.arange(0.05, seconds, 0.05) + rng.uniform(0, jitter_s, int(seconds / 0.05) - 1 + 1)[:-1]
    ):
        end = start + 0.0005
        available = int(np.searchsorted(truth, start, side="right"))
        stamped.append(timer.stamp(available - taken, start, end))
        taken = available
    return truth[:taken], np.concatenate(stamped), timer


def test_an_ideal_chip_gets_evenly_spaced_times_within_half_a_period():
    truth, stamped, _ = run(200.0, 200.0, 10.0, jitter_s=0.0)
    assert np.allclose(np.diff(stamped), 0.005, atol=1e-9)
    assert np.max(np.abs(stamped - truth)) <= 0.0025 + 1e-9


def test_reads_at_varying_phases_narrow_the_timing_error():
    truth, stamped, _ = run(208.0, 208.0, 10.0, jitter_s=0.0)
    assert np.all(np.diff(stamped) > 0)
    assert np.max(np.abs(stamped - truth)[-1000:]) < 0.12 / 208  # five read phases: p/10


def test_a_fast_chip_is_tracked_and_its_period_estimated():
    truth, stamped, timer = run(203.0, 200.0, 60.0, jitter_s=0.004)
    assert np.all(np.diff(stamped) > 0)
    assert np.max(np.abs(stamped - truth)) < 1.0 / 200  # never more than a period off
    assert abs(timer.period_s * 203.0 - 1.0) < 1e-3


def test_a_slow_chip_is_tracked_too():
    truth, stamped, timer = run(197.0, 200.0, 60.0, jitter_s=0.004)
    assert np.all(np.diff(stamped) > 0)
    assert np.max(np.abs(stamped - truth)) < 1.0 / 200
    assert abs(timer.period_s * 197.0 - 1.0) < 1e-3


def test_restart_anchors_afresh_after_lost_samples():
    timer = SampleTimer(0.01)
    first = timer.stamp(5, 0.05, 0.05)
    timer.restart()
    later = timer.stamp(5, 1.05, 1.05)
    assert np.isclose(first[-1], 0.045) and np.isclose(later[0], 1.005)


def test_a_descheduled_first_read_after_a_restart_leaves_no_phantom_gap():
    """The first read after a restart took 15 ms (its bracket is wide, its middle a period early);
    the next, narrow reads move the phase, but no sample was lost: no step reaches 1.5 periods."""
    period = 1 / 220
    truth = 0.0013 + np.arange(2000) * period
    timer = SampleTimer(period)
    timer.restart()  # the FIFO was just flushed at 1.0 s: the samples from then on are kept
    taken = int(np.searchsorted(truth, 1.0, side="right"))
    stamped = []
    for start, end, seen_at in [(1.05, 1.065, 1.062)] + [(1.05 + 0.05 * k,) * 3 for k in (1, 2, 3)]:
        available = int(np.searchsorted(truth, seen_at, side="right"))
        stamped.append(timer.stamp(available - taken, start, end))
        taken = available
    times = np.concatenate(stamped)
    assert times[-1] == pytest.approx(truth[taken - 1], abs=period / 2)
    assert np.all(np.diff(times) < 1.5 * period) and np.all(np.diff(times) > 0.5 * period)
