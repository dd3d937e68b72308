"""Column names and measure keys of every hiprot product, in one place.

``angles.csv``, the MQTT ``angles`` topic, ``report.json``, ``strides.csv`` /
``reps.csv`` / ``tests.csv`` and the simulator's ``truth.csv`` all name the
same quantities; the names are built here and nowhere else (the model is
gaitmap's ``gaitmap.utils.consts``: named constants and small functions). A
joint-angle column is ``<side>_<angle>``, e.g. ``right_hip_ir_deg``; a measure
key carries its unit as a suffix (``_deg``, ``_s``, ``_percent``).

Names that were changed are kept in :data:`LEGACY_NAMES`, and :func:`current_names`
turns a file written under an older name into today's, so sessions analysed by an
earlier version still load.
"""

from __future__ import annotations

from collections.abc import Iterable

SIDES = ("right", "left")
ACTIVITIES = ("walk", "exercise", "seated-test", "prone-test")  # kinds of session
TIME = "time_s"
DEG = "_deg"

# Per-leg joint angles (degrees, ISB), without the side.
HIP_IR = "hip_ir_deg"
HIP_FLEXION = "hip_flexion_deg"
HIP_ADDUCTION = "hip_adduction_deg"
KNEE_FLEXION = "knee_flexion_deg"
THIGH_HEADING = "thigh_heading_deg"  # the thigh's heading about the vertical (marks turns)
THIGH_INCLINATION = "thigh_inclination_deg"  # the thigh's long axis from the vertical
SATURATED = "saturated"  # True where a sensor of the leg was at full scale (marks strides)
PELVIS_ANGLES = (HIP_FLEXION, HIP_ADDUCTION)  # reported only with a pelvis sensor
# The pelvis itself (with a pelvis sensor; Baker's rotation-obliquity-tilt sequence): tilt
# (anterior +) and obliquity (right side up +) zeroed at standing, and rotation (right side
# forward +) relative to the walking direction. Not per leg: no side prefix.
PELVIS_TILT = "pelvis_tilt_deg"
PELVIS_OBLIQUITY = "pelvis_obliquity_deg"
PELVIS_ROTATION = "pelvis_rotation_deg"
PELVIS_SEGMENT = (PELVIS_TILT, PELVIS_OBLIQUITY, PELVIS_ROTATION)


def leg_column(side: str, angle: str) -> str:
    """The column of ``angle`` (e.g. :data:`HIP_IR`) of leg ``side``: ``right_hip_ir_deg``."""
    return f"{side}_{angle}"


def split_column(column: str) -> tuple[str, str]:
    """``right_hip_ir_deg`` → ``("right", "hip_ir_deg")``; a pelvis column →
    ``("pelvis", "tilt_deg")``."""
    side, angle = column.split("_", 1)
    return side, angle


def hip_ir(side: str) -> str:
    """Hip internal rotation of leg ``side`` (positive = internal)."""
    return leg_column(side, HIP_IR)


def hip_flexion(side: str) -> str:
    """Hip flexion of leg ``side`` (with a pelvis sensor)."""
    return leg_column(side, HIP_FLEXION)


def hip_adduction(side: str) -> str:
    """Hip adduction of leg ``side`` (with a pelvis sensor)."""
    return leg_column(side, HIP_ADDUCTION)


def knee_flexion(side: str) -> str:
    """Knee flexion of leg ``side`` (with a shank sensor)."""
    return leg_column(side, KNEE_FLEXION)


def thigh_heading(side: str) -> str:
    """The thigh's heading of leg ``side`` about the vertical, unwrapped."""
    return leg_column(side, THIGH_HEADING)


def thigh_inclination(side: str) -> str:
    """The angle between the thigh's long axis of leg ``side`` and the vertical."""
    return leg_column(side, THIGH_INCLINATION)


def angle_columns(sides: Iterable[str], shanks: Iterable[str], pelvis: bool) -> list[str]:
    """The joint-angle columns of a rig with legs ``sides``, shank sensors on ``shanks`` and
    a pelvis sensor or not, in ``angles.csv`` order (the pelvis' own angles last)."""
    with_shank = set(shanks)
    columns = []
    for side in sides:
        columns.append(hip_ir(side))
        if side in with_shank:
            columns.append(knee_flexion(side))
        if pelvis:
            columns += [leg_column(side, angle) for angle in PELVIS_ANGLES]
    return columns + list(PELVIS_SEGMENT if pelvis else ())


# What hip IR is measured against (report.json ``angles.hip_ir_reference``).
HIP_IR_REFERENCE = "hip_ir_reference"
REFERENCE_PELVIS = "pelvis sensor"
REFERENCE_WALKING = "direction of walking (no pelvis sensor)"


def reference_of(columns: Iterable[str]) -> str:
    """The hip IR reference of an angle table, told by its columns: pelvis angles are there
    only when a pelvis sensor was worn."""
    angles = {split_column(c)[1] for c in columns if "_" in c}
    return REFERENCE_PELVIS if angles & set(PELVIS_ANGLES) else REFERENCE_WALKING


# Measure keys of one stride, repetition or test trial (report, CSV tables, MQTT).
STRIDE_TIME = "stride_time_s"
CADENCE = "cadence_steps_per_min"
STANCE = "stance_percent"
HIP_IR_AT_HEEL_STRIKE = "hip_ir_at_heel_strike_deg"
HIP_IR_MAX = "hip_ir_max_deg"
HIP_ER_MAX = "hip_er_max_deg"  # positive = external
HIP_IR_ROM = "hip_ir_rom_deg"
HIP_IR_ROM_STANCE = "hip_ir_rom_stance_deg"
HIP_IR_ROM_SWING = "hip_ir_rom_swing_deg"
KNEE_FLEXION_MAX = "knee_flexion_max_deg"
KNEE_FLEXION_ROM = "knee_flexion_rom_deg"
# Hip IR after heel strike (strides whose stance is plausible only): the stance peak, its
# timing in % of the stride, the excursion from heel strike to it (loading response) and
# the mean over stance.
HIP_IR_STANCE_PEAK = "hip_ir_stance_peak_deg"
HIP_IR_STANCE_PEAK_TIMING = "hip_ir_stance_peak_percent"
HIP_IR_LOADING_EXCURSION = "hip_ir_loading_excursion_deg"
HIP_IR_STANCE_MEAN = "hip_ir_stance_mean_deg"
# The pelvis over a stride of one leg (pelvis sensor), that leg's side up / forward positive.
PELVIC_OBLIQUITY_ROM = "pelvic_obliquity_rom_deg"
PELVIC_OBLIQUITY_MEAN = "pelvic_obliquity_mean_deg"
PELVIC_ROTATION_ROM = "pelvic_rotation_rom_deg"
PELVIC_ROTATION_MAX = "pelvic_rotation_max_deg"  # the leg's side furthest forward
STRIDE_TIME_CV = "stride_time_cv_percent"  # stride-time variability in a gait summary
STANCE_MEDIAN = "stance_median_percent"  # a leg's median stance in a gait summary
STANCE_PLAUSIBLE = "stance_plausible"  # whether that median is within normal walking's range
STRIDE_METRICS = (
    STRIDE_TIME,
    CADENCE,
    STANCE,
    HIP_IR_AT_HEEL_STRIKE,
    HIP_IR_MAX,
    HIP_ER_MAX,
    HIP_IR_ROM,
    HIP_IR_ROM_STANCE,
    HIP_IR_ROM_SWING,
    KNEE_FLEXION_MAX,
    HIP_IR_STANCE_PEAK,
    HIP_IR_STANCE_PEAK_TIMING,
    HIP_IR_LOADING_EXCURSION,
    HIP_IR_STANCE_MEAN,
    PELVIC_OBLIQUITY_ROM,
    PELVIC_OBLIQUITY_MEAN,
    PELVIC_ROTATION_ROM,
    PELVIC_ROTATION_MAX,
)  # summarised per leg (mean ± SD over straight strides)
# The stride measures a symmetry index is given for: ranges and timings, never signed angles
# (an index of two angles near zero, or of opposite sign, is meaningless).
SYMMETRY_METRICS = (
    STRIDE_TIME,
    STANCE,
    HIP_IR_ROM,
    HIP_IR_ROM_STANCE,
    HIP_IR_ROM_SWING,
    HIP_IR_STANCE_PEAK_TIMING,
    HIP_IR_LOADING_EXCURSION,
    PELVIC_OBLIQUITY_ROM,
    PELVIC_ROTATION_ROM,
)

# Per rotation-test trial (report.json ``tests``, ``tests.csv``, the MQTT ``trial`` topic):
# which reference the primary IR/ER figures use, the pelvis' compensation and the protocol.
TEST_REFERENCE = "reference"  # REFERENCE_PELVIS, or REFERENCE_GRAVITY without a pelvis sensor
REFERENCE_GRAVITY = "gravity (no pelvis sensor)"
HIP_IR_MAX_GRAVITY = "hip_ir_max_gravity_deg"  # the gravity-referenced second figure
HIP_ER_MAX_GRAVITY = "hip_er_max_gravity_deg"
PELVIC_COMPENSATION = "pelvic_compensation_deg"  # seated: obliquity; prone: roll (pelvis only)
COMPENSATED = "compensated"  # True/False with a pelvis sensor; None: cannot be excluded
COMPENSATED_TRIALS = "compensated_trials"  # how many of a test's trials were (compare, history)
PROTOCOL_OK = "protocol_ok"  # hip and knee flexion within the protocol's band
MODE = "mode"  # one of MODES from the trial's label; None when unlabelled
PHASE = "phase"  # a segment's label: "before" or "after" the exercises
MODES = ("active", "passive")  # active and passive range differ: never mixed in a comparison
# A leg's rotation-test inputs of the trial detector (live and batch, not in angles.csv).
TEST_POSTURE = "test_posture"  # True where the rotation-test reference holds
HIP_IR_GRAVITY = "hip_ir_gravity_deg"  # the gravity-referenced IR, NaN outside
TEST_HIP_FLEXION = "test_hip_flexion_deg"  # hip flexion in the test, NaN outside
TEST_KNEE_FLEXION = "test_knee_flexion_deg"  # the angle between thigh and shank long axes
PELVIS_UP = ("pelvis_up_x", "pelvis_up_y", "pelvis_up_z")  # the vertical in the pelvis frame
SUBJECT = "subject"  # pseudonymous subject id (session.json, reports, MQTT)

# Summary keys.
PERCENT = "percent"  # the gait cycle axis of the normalised curves
# A measure's values in one session (comparison and history) and their change between two.
VALUE = "value_deg"  # the mean
SD = "sd_deg"
COUNT = "n"
CHANGE = "change_deg"
DETECTABLE_CHANGE = "detectable_change_deg"
HISTORY_COLUMNS = (
    SUBJECT,
    "session",
    "start_utc",
    "activity",
    "reference",
    "side",
    "measure",  # a measure key, e.g. hip_ir_max_deg
    VALUE,
    SD,
    COUNT,
    COMPENSATED_TRIALS,  # empty without a pelvis sensor, and for walks and exercises
    "repeat_of",
)  # history.csv: one row per session, leg and measure
TEST_DIRECTIONS = {
    "ir": HIP_IR_MAX,
    "er": HIP_ER_MAX,
}  # rotation-test summary prefix → trial measure


def _stem(name: str) -> str:
    return name.removesuffix(DEG)


def mean_key(name: str) -> str:
    """Key of the mean of ``name`` (a measure or a gait-cycle curve) in a summary:
    ``hip_ir_rom_deg`` → ``hip_ir_rom_mean_deg``."""
    return f"{_stem(name)}_mean{DEG}"


def sd_key(name: str) -> str:
    """Key of the sample SD of ``name`` in a summary: ``hip_ir_rom_deg`` → ``hip_ir_rom_sd_deg``."""
    return f"{_stem(name)}_sd{DEG}"


def trial_summary_key(prefix: str, statistic: str) -> str:
    """Key of a rotation-test summary (prefix from :data:`TEST_DIRECTIONS`): ``ir_best_deg``."""
    return f"{prefix}_{statistic}{DEG}"


# Without a pelvis sensor the walking "hip IR" is the thigh's rotation relative to the walking
# direction: it holds pelvic rotation, so its stride measures are named for what they are
# (positive = internal, toward the midline) and never stand for hip IR.
THIGH_ROTATION = "thigh_rotation"
THIGH_EXTERNAL_ROTATION_MAX = "thigh_external_rotation_max_deg"


def _thigh_name(name: str) -> str:
    if name == HIP_ER_MAX:
        return THIGH_EXTERNAL_ROTATION_MAX
    return THIGH_ROTATION + name.removeprefix("hip_ir")


WALKING_RENAMES = {
    name: _thigh_name(name)
    for name in (*STRIDE_METRICS, mean_key(HIP_IR), sd_key(HIP_IR))
    if name.startswith(("hip_ir", "hip_er"))
}  # a stride measure of hip IR → its name in walks without a pelvis sensor


def measured_names(data, reference: str | None):
    """Stride measures (a name, a stride's or summary's dict, a list) under the names of what
    was measured: with :data:`REFERENCE_WALKING`, thigh rotation (:data:`WALKING_RENAMES`)."""
    return _renamed(data, WALKING_RENAMES) if reference == REFERENCE_WALKING else data


def rig_reference(pelvis: bool) -> str:
    """The walking hip reference of a rig with a pelvis sensor or without."""
    return REFERENCE_PELVIS if pelvis else REFERENCE_WALKING


# Old name → current name, for files written by earlier versions. ``None`` holds renames of
# every session; a hip IR reference holds renames of the walks measured against it (other
# kinds of session keep the names: a rotation test without a pelvis sensor measures hip IR
# against gravity).
LEGACY_NAMES: dict[str | None, dict[str, str]] = {None: {}, REFERENCE_WALKING: WALKING_RENAMES}


def current_names(data, reference: str | None = None):
    """``data`` under today's names: a name, a list, or a dict (a report, a table row) whose
    keys at any depth, and names given as values (``angles.columns``, a comparison's ``key``),
    are renamed by :data:`LEGACY_NAMES`. ``reference`` (by default a report's own
    ``angles.hip_ir_reference``, when the report is of a walk) adds the renames of walks
    measured against it."""
    if reference is None and isinstance(data, dict):
        reference = (data.get("angles") or {}).get(HIP_IR_REFERENCE)
        if (data.get("session") or {}).get("activity") not in (None, "walk"):
            reference = None
    table = {**LEGACY_NAMES.get(None, {}), **LEGACY_NAMES.get(reference, {})}
    return _renamed(data, table) if table else data


def _renamed(data, table: dict[str, str]):
    if isinstance(data, str):
        return _current(data, table)
    if isinstance(data, dict):
        return {_current(k, table): _renamed(v, table) for k, v in data.items()}
    if isinstance(data, list):
        return [_renamed(v, table) for v in data]
    return data


def _current(name, table: dict[str, str]):
    """A name's current form; a side-prefixed column is looked up by its angle too."""
    if not isinstance(name, str):
        return name
    if name in table:
        return table[name]
    side, _, angle = name.partition("_")
    if side in SIDES and angle in table:
        return leg_column(side, table[angle])
    return name


# summary.csv of a batch (``hiprot analyze`` over several sessions): one row per session, leg
# and measure (a measure key above, its unit in its name), over the session's straight strides,
# repetitions or test trials (``source``).
SUMMARY_COLUMNS = (
    "session",
    "results",  # the session's results directory, relative to the batch's
    "activity",
    "side",
    "source",  # strides | reps | tests
    "measure",
    COUNT,
    "mean",
    "sd",
    "min",
    "max",
)
