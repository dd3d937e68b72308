"""How people differ from the ideal model: skin, knees, individuals, compensation, days.

``realism = "realistic"`` (the default of ``[simulation]``) turns every effect below
on with the magnitudes cited here; ``realism = "technical"`` turns them all off (the
idealized rigid-body model that isolates the product's technical error). Each
magnitude can be set on its own in ``[simulation]``. These values, like the chip
error models in :mod:`hiprot.sim.chips`, are the fixed ruler every accuracy figure is
measured with: they change only with a new cited source, named in the change.

Soft-tissue artefact (STA) — a skin-mounted module does not follow its bone:

- **Attenuation of femoral axial rotation** (``soft_tissue_attenuation``, 0.3): the
  thigh module turns about the femur's long axis by only 70 % of the hip's internal or
  external rotation. Fiorentino et al., Gait Posture 55:184-190 (2017), dual
  fluoroscopy of 11 adults: skin markers on the thigh reduced the hip's
  internal-external range by 21.8° in a hip rotation task — about 0.3 of the 70-80°
  arc of a healthy hip (Roaas & Andersson, Acta Orthop Scand 53:205-208 (1982): IR
  about 33°, ER about 34-38°) — and put the hip 5.8° more internally rotated on
  average while walking.
- **Twist with knee flexion** (``soft_tissue_deg``, 6.6° per 90° of knee flexion about
  the long axis, 30 % of it about the anterior axis): Benoit et al., Gait Posture
  24:152-164 (2006), bone pins in 8 men: skin-marker knee rotations off by up to 4.4°
  while walking, where the knee reaches about 60° of flexion (4.4° × 90/60 = 6.6°).
- **Wobble after heel strike** (``soft_tissue_wobble_deg``, 1°): a damped oscillation
  of the skin at 15 Hz decaying with a time constant of 40 ms, about the long axis
  (half as much about the anterior axis). Frequency and damping from the soft-tissue
  vibrations of the thigh after heel strike (Wakeling & Nigg, J Appl Physiol
  90:412-420 (2001): 10-50 Hz, damped within about 100 ms); the 1° amplitude is a
  modelling choice within the STA angles above, not a published figure.
- **Shank**: the same twist and wobble scaled by 0.7, the ratio of the largest shank
  to thigh STA under fluoroscopy (Akbarshahi et al., J Biomech 43:1292-1301 (2010):
  up to 21 mm on the shank, 31 mm on the thigh); no attenuation of hip rotation.
  Leardini et al., Gait Posture 21:212-225 (2005) review the STA literature
  (Cappozzo et al., Clin Biomech 11:90-100 (1996) among it): thigh artefacts are the
  largest and depend on the task and the subject.

A knee that is not a pure hinge (in :class:`hiprot.sim.body.Body`):

- **Screw-home** (``knee_screw_home_deg``, 10°): the tibia rotates internally relative
  to the femur as the knee flexes, ``10° tanh(flexion / 30°)``, so it rotates
  externally over the last 20-30° of extension. Biplane radiography of 39 healthy
  knees walking (Gale & Anderst, J Biomech Eng 142(10), 2020): internal-external
  range 11.5° over a 67° flexion range; Kefala et al., Med Sci Sports Exerc
  49:2260-2267 (2017): 3.6° in stance.
- **Varus with flexion** (``knee_varus_deg``, 4°): ``4° tanh(flexion / 45°)``; the same
  biplane study: abduction-adduction range 3.7°; Kefala et al.: rarely above 6°.

Variation between people (``person_variation``), drawn from the seed:

- femoral anteversion: deviation from the mean (15°, normal range 10-20°, Tönnis &
  Heinecke, J Pediatr Orthop 19:419-424 (1999)) with SD 5°, 80 % of it shared by both
  hips; a hip walks rotated internally by its deviation (more anteversion, more IR in
  gait — the direction Tönnis & Heinecke describe; the one-to-one share is a modelling
  choice);
- amplitude of each hip's rotation curve: gain SD 0.25, and the normative curve's
  12° range (Kadaba et al., J Orthop Res 8:383-392 (1990)) varies between people
  more than any other hip curve in their data; the SD is a modelling choice;
- a constant pelvic rotation relative to the walking direction, SD 3°, with the femurs
  still walking straight (so each hip turns by it); the pelvis is square in the
  standing calibration. "A few degrees" is a modelling choice: no published SD found.

Compensation (``compensation``):

- seated test: the pelvis tilts sideways (obliquity) with the tested hip's rotation,
  0.1° per degree; prone test: the pelvis rolls (rotation about its long axis), 0.1°
  per degree, both toward the movement, so a thigh-only rig sees more rotation than
  the hip makes. Analogous published figures: pelvic retroversion of 7.3° at the end
  of 106° of passive hip flexion (7 %; "Measurement of pelvic retroversion during
  hip flexion: evaluation with accelerometers", Fenato Junior et al., Acta Ortop Bras
  28:69-73 (2020)), 14-17° at 111-121° (about 15 %; Beneck et al., "The influence of pelvic rotation on
  clinical measurements of hip flexion and extension range of motion across sex and age",
  Phys Ther Sport 30:1-7 (2018)); the hip-rotation ratio itself is a modelling choice within them;
- walking: internal rotation a restricted hip cannot give (its gait curve is limited
  to half the passive range) is taken up by pelvic rotation, so the femur still points
  where the gait needs it.

Day-to-day variation between sessions of the same hip (``session_variation``, the
``session`` number): modules strapped anew (another mounting draw), another sitting
posture (posterior pelvic tilt SD 3°) and another effort at end range (a session
offset of the tests' end range). Krause et al., Knee Surg Sports Traumatol Arthrosc
23:2562-2567 (2015): seated active hip IR with an inclinometer, MDC95 5.4°, i.e.
SEM = 5.4 / (1.96 √2) = 1.95°. The effort offset's SD is set so that the mean of a
session's ``trials`` (3) peak IRs varies between sessions with that SEM — the whole
published SEM is given to the person, none to the inclinometer, so the simulated
people are at most as variable as Krause's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from hiprot.config import SimulationConfig

# Soft-tissue artefact.
STA_ATTENUATION = 0.3
STA_TWIST_DEG = 6.6
STA_TWIST_ANTERIOR_SHARE = 0.3
STA_WOBBLE_DEG = 1.0
STA_WOBBLE_HZ = 15.0
STA_WOBBLE_TAU_S = 0.04
STA_WOBBLE_ANTERIOR_SHARE = 0.5
SHANK_STA_SHARE = 0.7
# Knee.
KNEE_SCREW_HOME_DEG = 10.0
KNEE_SCREW_HOME_SCALE_DEG = 30.0
KNEE_VARUS_DEG = 4.0
KNEE_VARUS_SCALE_DEG = 45.0
# People.
ANTEVERSION_SD_DEG = 5.0
ANTEVERSION_SHARED = 0.8
HIP_ROTATION_GAIN_SD = 0.25
PELVIS_ROTATION_OFFSET_SD_DEG = 3.0
# Compensation.
SEATED_OBLIQUITY_PER_DEG = 0.1
PRONE_ROLL_PER_DEG = 0.1
# Day to day.
SEM_SEATED_IR_DEG = 5.4 / (1.96 * np.sqrt(2.0))
SEATED_TILT_SD_DEG = 3.0
TRIAL_SHORTFALL_SD_DEG = 1.5  # each trial's end range falls |N(0, SD)| short of the session's
TRIALS_OF_KRAUSE = 3


def effort_sd_deg() -> float:
    """The session offset's SD that gives the mean of 3 trial peaks the published SEM."""
    half_normal_var = TRIAL_SHORTFALL_SD_DEG**2 * (1 - 2 / np.pi)
    return float(np.sqrt(SEM_SEATED_IR_DEG**2 - half_normal_var / TRIALS_OF_KRAUSE))


@dataclass(frozen=True)
class Realism:
    """The magnitudes in force (see the module docstring)."""

    soft_tissue_deg: float
    soft_tissue_attenuation: float
    soft_tissue_wobble_deg: float
    knee_screw_home_deg: float
    knee_varus_deg: float
    person_variation: bool
    compensation: bool
    session_variation: bool


REALISTIC = Realism(
    soft_tissue_deg=STA_TWIST_DEG,
    soft_tissue_attenuation=STA_ATTENUATION,
    soft_tissue_wobble_deg=STA_WOBBLE_DEG,
    knee_screw_home_deg=KNEE_SCREW_HOME_DEG,
    knee_varus_deg=KNEE_VARUS_DEG,
    person_variation=True,
    compensation=True,
    session_variation=True,
)
TECHNICAL = Realism(0.0, 0.0, 0.0, 0.0, 0.0, False, False, False)
PRESETS = {"realistic": REALISTIC, "technical": TECHNICAL}


def realism_of(config: SimulationConfig) -> Realism:
    """The preset of ``config.realism`` with every key ``config`` sets explicitly."""
    preset = PRESETS[config.realism]
    overrides = {
        f.name: getattr(config, f.name)
        for f in fields(Realism)
        if getattr(config, f.name) is not None
    }
    return replace(preset, **overrides)


@dataclass(frozen=True)
class Individual:
    """Who this person is beyond the passive range: per side (``right``/``left``) the gait's
    hip-rotation offset (degrees, from anteversion) and gain, and the constant pelvic
    rotation relative to the walking direction (degrees, right side forward +)."""

    hip_rotation_offset_deg: dict[str, float]
    hip_rotation_gain: dict[str, float]
    pelvis_rotation_offset_deg: float

    @classmethod
    def average(cls) -> Individual:
        return cls({"right": 0.0, "left": 0.0}, {"right": 1.0, "left": 1.0}, 0.0)


def draw_individual(seed: int, realism: Realism) -> Individual:
    """The person of ``seed`` (the same on every session); the average person without variation."""
    if not realism.person_variation:
        return Individual.average()
    rng = np.random.default_rng([seed, 5])
    shared = np.sqrt(ANTEVERSION_SHARED) * rng.standard_normal()
    own = np.sqrt(1 - ANTEVERSION_SHARED) * rng.standard_normal(2)
    anteversion = ANTEVERSION_SD_DEG * (shared + own)
    gain = np.clip(1 + HIP_ROTATION_GAIN_SD * rng.standard_normal(2), 0.4, 1.6)
    pelvis = PELVIS_ROTATION_OFFSET_SD_DEG * rng.standard_normal()
    return Individual(
        {"right": float(anteversion[0]), "left": float(anteversion[1])},
        {"right": float(gain[0]), "left": float(gain[1])},
        float(pelvis),
    )


@dataclass(frozen=True)
class Day:
    """How this session differs from the person's usual: end-range effort per side (degrees)
    and the change of the seated posterior pelvic tilt (degrees)."""

    effort_deg: dict[str, float]
    seated_tilt_deg: float

    @classmethod
    def usual(cls) -> Day:
        return cls({"right": 0.0, "left": 0.0}, 0.0)


def draw_day(seed: int, session: int, realism: Realism) -> Day:
    """Session ``session`` of the person of ``seed``; the usual day without session variation."""
    if not realism.session_variation:
        return Day.usual()
    rng = np.random.default_rng([seed, 6, session])
    effort = effort_sd_deg() * rng.standard_normal(2)
    return Day(
        {"right": float(effort[0]), "left": float(effort[1])},
        float(SEATED_TILT_SD_DEG * rng.standard_normal()),
    )


def trial_peaks(
    passive_deg: float, day: Day, side: str, trials: int, rng: np.random.Generator
) -> np.ndarray:
    """The end range reached in each of ``trials`` trials: the passive range moved by the day's
    effort, each trial a random 0-3° short of that (never below half the passive range)."""
    reach = passive_deg + day.effort_deg[side]
    shortfall = np.abs(TRIAL_SHORTFALL_SD_DEG * rng.standard_normal(trials))
    return np.maximum(reach - shortfall, 0.5 * passive_deg)
