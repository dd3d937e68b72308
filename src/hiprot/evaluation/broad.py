"""Orientation accuracy on the BROAD dataset (Laidig, Caruso, Cereatti, Seel, *Data* 2021, CC-BY-4.0).

Loads ``.npz`` trials (the full data set, given as a folder, or the subset the
tests ship in ``tests/data/broad/``) as :class:`ImuSamples` with their optical
ground truth, and computes the errors as the dataset's authors do (see
``tests/data/broad/README.md``): ``q_err = q_imu ⊗ q_opt⁻¹`` in the earth
frame, total ``2·acos|w|``, heading ``2·atan|z/w|``, inclination
``2·acos√(w² + z²)``, each an RMSE in degrees over the movement phases where
the truth is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hiprot import quat
from hiprot.errors import ConfigError
from hiprot.samples import ImuSamples


@dataclass
class Trial:
    """One BROAD trial: raw samples (timed from the nominal rate), truth, movement mask."""

    name: str
    rate_hz: float
    samples: ImuSamples
    q_opt: np.ndarray
    movement: np.ndarray


@dataclass(frozen=True)
class Errors:
    """RMSE in degrees of one estimate against the truth."""

    total_deg: float
    heading_deg: float
    inclination_deg: float


def trial_paths(directory: Path) -> list[Path]:
    """The trial files in ``directory``, in name order."""
    paths = sorted(Path(directory).glob("*.npz"))
    if not paths:
        raise ConfigError(f"{directory}: no BROAD trials (*.npz) found")
    return paths


def load_trial(path: Path) -> Trial:
    """A trial file as samples and truth."""
    with np.load(path) as data:
        rate = float(data["sampling_rate"])
        n = len(data["imu_gyr"])
        samples = ImuSamples(np.arange(n) / rate, data["imu_acc"], data["imu_gyr"], data["imu_mag"])
        return Trial(
            Path(path).stem, rate, samples, data["opt_quat"], data["movement"].astype(bool)
        )


def _split(q_err: np.ndarray) -> Errors:
    w, z = np.abs(q_err[:, 0]), q_err[:, 3]
    total = 2.0 * np.arccos(np.clip(w, 0.0, 1.0))
    heading = 2.0 * np.arctan(np.abs(z) / np.maximum(w, 1e-12))
    inclination = 2.0 * np.arccos(np.clip(np.sqrt(w**2 + z**2), 0.0, 1.0))

    def rmse(e):
        return float(np.degrees(np.sqrt(np.mean(e**2))))

    return Errors(rmse(total), rmse(heading), rmse(inclination))


def errors(q_imu: np.ndarray, trial: Trial, remove_heading_offset: bool = False) -> Errors:
    """Errors of ``q_imu`` (sensor → earth, ENU) over the trial's movement phases.

    ``remove_heading_offset`` first turns the estimate by the one heading
    offset that fits the trial best (circular mean): for 6-axis estimates,
    whose heading is relative, this leaves the heading *drift*.
    """
    valid = trial.movement & ~np.isnan(trial.q_opt).any(axis=1)
    q_err = quat.multiply(q_imu[valid], quat.conjugate(trial.q_opt[valid]))
    if remove_heading_offset:
        heading = 2.0 * np.arctan2(q_err[:, 3], q_err[:, 0])
        offset = np.arctan2(np.mean(np.sin(heading)), np.mean(np.cos(heading)))
        back = np.array([np.cos(offset / 2), 0.0, 0.0, -np.sin(offset / 2)])
        q_err = quat.multiply(back, q_err)
    return _split(q_err)
