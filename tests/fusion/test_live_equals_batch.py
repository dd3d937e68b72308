"""Live (chunks of any size, down to one sample) gives exactly the batch result."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from synthetic import broad_trial

from hiprot.config import FusionConfig
from hiprot.evaluation.broad import load_trial
from hiprot.fusion import FILTER_CLASSES, make_filter
from hiprot.samples import ImuSamples


def _irregular(samples: ImuSamples, seed: int) -> ImuSamples:
    """The samples with jittered timestamps, a tenth dropped, one short and one long gap."""
    rng = np.random.default_rng(seed)
    keep = rng.random(len(samples)) > 0.1
    keep[400:430] = False  # ~0.1 s gap, bridged
    keep[900:1300] = False  # ~1.4 s gap, filter re-levels
    s = samples[keep]
    step = np.median(np.diff(samples.time_s))
    s.time_s = s.time_s + rng.uniform(-0.2, 0.2, len(s)) * step
    return s


def _chunks(n: int, seed: int) -> list[slice]:
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 1, 2, 3, 7, 10, 57, 300], size=n)
    edges = np.concatenate([[0], np.cumsum(sizes)])
    edges = edges[edges < n].tolist() + [n]
    return [slice(a, b) for a, b in pairwise(edges)]


@pytest.fixture(scope="module")
def stream():
    trial = load_trial(broad_trial("fast_combined"))
    start = int(np.flatnonzero(trial.movement)[0] - 6 * trial.rate_hz)  # 6 s of rest, then motion
    return trial.rate_hz, _irregular(trial.samples[start : start + 4000], seed=3)


@pytest.mark.parametrize("use_mag", [False, True], ids=["6D", "9D"])
@pytest.mark.parametrize("name", list(FILTER_CLASSES))
def test_chunked_equals_batch(stream, name, use_mag):
    rate, samples = stream
    fusion = FusionConfig(name, use_mag)
    batch_filter = make_filter(fusion, rate, magnetometer=True)
    batch = batch_filter.update(samples)
    live_filter = make_filter(fusion, rate, magnetometer=True)
    parts = [live_filter.update(samples[part]) for part in _chunks(len(samples), seed=7)]
    live = np.concatenate(parts)
    assert live.shape == (len(samples), 4)
    np.testing.assert_array_equal(live, batch)
    np.testing.assert_array_equal(live_filter.bias_, batch_filter.bias_)
    assert live_filter.gaps == batch_filter.gaps == 1
    assert np.allclose(np.linalg.norm(live, axis=1), 1.0)


def test_rest_flags_are_per_sample_and_chunk_independent(stream):
    rate, samples = stream
    whole = make_filter("vqf", rate)
    whole.update(samples)
    pieces = make_filter("vqf", rate)
    flags = []
    for part in _chunks(len(samples), seed=11):
        pieces.update(samples[part])
        flags.append(pieces.rest_)
    np.testing.assert_array_equal(np.concatenate(flags), whole.rest_)
    assert whole.rest_.shape == (len(samples),)
