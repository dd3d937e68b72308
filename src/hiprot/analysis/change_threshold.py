"""How large a change between two sessions must be before it is called probable.

Two sources of error, and the larger wins (docs/change.md):

- **Within the session**: the trials' (strides', repetitions') spread. Strides
  are not independent: consecutive strides share the session's strapping, zero
  and walking bout, so they are taken in clusters — each straight walking bout
  (strides between turns), or blocks of :data:`BLOCK` consecutive strides when
  the walk has one bout — and the session mean's standard error is the spread
  of the cluster means over √(clusters). Trials of a test are their own
  clusters. The bound is the Welch t quantile at 97.5 % times the standard error
  of the difference (:func:`within_session_bound`).
- **Between sessions**: modules re-strapped, another zero, posture and effort.
  This needs test–retest data, so it starts from a published prior
  (:data:`PRIORS`) and takes in the person's own error only from explicit
  same-day repeats (:func:`pooled_sem`, pooled by degrees of freedom):
  SEM² = (ν₀·SEM₀² + ν·SEM_own²)/(ν₀ + ν), MDC95 = 1.96·√2·SEM (Weir, J Strength
  Cond Res 19:231-240 (2005)).

Priors (SEM₀ = MDC95 / (1.96 √2), ν₀ = the study's subjects, one retest each):

- seated and prone test, IR and ER: Krause et al., Knee Surg Sports Traumatol
  Arthrosc 23:2562-2567 (2015), digital inclinometer, 25 adults, active seated
  IR: MDC95 5.4°. No prone or ER figure of the same design was found; the seated
  IR figure stands for them (an assumption, stated in the verdict's source).
- walking excursions: Wilken et al., Gait Posture 35:301-307 (2012), 29 adults
  retested 5.6 days apart with optical markers: changes of gait kinematics
  above about 5° are detectable between sessions (MDC95 5°). The same figure stands for the
  thigh's rotation relative to the walking direction (no pelvis sensor) — an assumption.
- exercise repetitions (active IR range): Krause et al. as for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import stdtrit  # Student t quantile; lighter to import than scipy.stats

from hiprot.columns import HIP_ER_MAX, HIP_IR_MAX, HIP_IR_ROM, HIP_IR_ROM_STANCE, WALKING_RENAMES

Z95 = 1.96
BLOCK = 10  # strides per cluster when a walk has a single bout (a modelling choice)
MIN_WITHIN_DEG = 1.0  # the angles themselves are not better than a degree


@dataclass(frozen=True)
class Prior:
    """A published between-session SEM (degrees), its degrees of freedom and where it is from."""

    sem_deg: float
    dof: int
    source: str

    @property
    def mdc95_deg(self) -> float:
        return mdc95(self.sem_deg)


def mdc95(sem_deg: float) -> float:
    """Minimal detectable change at 95 % of a difference of two measurements."""
    return float(Z95 * np.sqrt(2.0) * sem_deg)


KRAUSE = Prior(
    5.4 / (Z95 * np.sqrt(2.0)),
    25,
    "inclinometer study (Krause et al. 2015, seated active IR, 25 adults)",
)
WILKEN = Prior(
    5.0 / (Z95 * np.sqrt(2.0)),
    29,
    "optical gait study (Wilken et al. 2012, 29 adults retested days apart)",
)
# (kind of session, measure key) → prior
PRIORS: dict[tuple[str, str], Prior] = {
    ("seated-test", HIP_IR_MAX): KRAUSE,
    ("seated-test", HIP_ER_MAX): KRAUSE,
    ("prone-test", HIP_IR_MAX): KRAUSE,
    ("prone-test", HIP_ER_MAX): KRAUSE,
    ("walk", HIP_IR_ROM): WILKEN,
    ("walk", HIP_IR_ROM_STANCE): WILKEN,
    ("walk", WALKING_RENAMES[HIP_IR_ROM]): WILKEN,
    ("walk", WALKING_RENAMES[HIP_IR_ROM_STANCE]): WILKEN,
    ("exercise", HIP_IR_ROM): KRAUSE,
}


@dataclass(frozen=True)
class BetweenSessionError:
    """The SEM in force for one measure: the prior pooled with the person's repeats."""

    sem_deg: float
    prior: Prior
    own_dof: int
    own_sem_deg: float | None

    @property
    def mdc95_deg(self) -> float:
        return mdc95(self.sem_deg)

    def source(self) -> str:
        if self.own_dof == 0:
            return (
                f"prior from an {self.prior.source}; this device's own test-retest not yet measured"
            )
        return (
            f"prior from an {self.prior.source} pooled with {self.own_dof} same-day repeat"
            f"{'s' if self.own_dof > 1 else ''} of yours (own SEM {self.own_sem_deg:.1f}°)"
        )


def pooled_sem(prior: Prior, repeat_differences: list[float]) -> BetweenSessionError:
    """The prior's SEM pooled by degrees of freedom with the SEM of the person's same-day repeat
    pairs (each difference d gives SEM² = d²/2 on one degree of freedom)."""
    d = np.asarray(repeat_differences, float)
    d = d[np.isfinite(d)]
    if len(d) == 0:
        return BetweenSessionError(prior.sem_deg, prior, 0, None)
    own_var = float(np.sum(d**2) / (2 * len(d)))
    var = (prior.dof * prior.sem_deg**2 + len(d) * own_var) / (prior.dof + len(d))
    return BetweenSessionError(float(np.sqrt(var)), prior, len(d), float(np.sqrt(own_var)))


def clusters(values: np.ndarray, bouts: np.ndarray | None) -> list[np.ndarray]:
    """The values grouped into clusters: by bout when there are several, else blocks of
    :data:`BLOCK` consecutive values (trials and repetitions: ``bouts`` None, each its own)."""
    if bouts is None:
        return [np.array([v]) for v in values]
    labels = np.unique(bouts)
    if len(labels) >= 2:
        return [values[bouts == b] for b in labels]
    return [values[k : k + BLOCK] for k in range(0, len(values), BLOCK)]


def standard_error(groups: list[np.ndarray]) -> tuple[float, int] | None:
    """The mean's standard error from the cluster means, with its degrees of freedom; None
    with fewer than two clusters."""
    means = np.array([g.mean() for g in groups if len(g)])
    if len(means) < 2:
        return None
    return float(np.std(means, ddof=1) / np.sqrt(len(means))), len(means) - 1


def within_session_bound(
    before: tuple[float, int] | None, after: tuple[float, int] | None
) -> float | None:
    """The change that the two sessions' own spread explains at 95 % (Welch), at least
    :data:`MIN_WITHIN_DEG`; None when a session has fewer than two clusters."""
    if before is None or after is None:
        return None
    (se_b, nu_b), (se_a, nu_a) = before, after
    var = se_b**2 + se_a**2
    if var == 0:
        return MIN_WITHIN_DEG
    dof = var**2 / (se_b**4 / nu_b + se_a**4 / nu_a)
    return max(float(stdtrit(dof, 0.975) * np.sqrt(var)), MIN_WITHIN_DEG)
