"""The live pipeline, imported and built on a thread of its own once the first samples are on
their way to disk.

The pipeline needs scipy (calibration, joint angles, live metrics): seconds of imports on a
Raspberry Pi, which the sensors must not wait for — their FIFOs hold well under a second at
200 Hz, and the run loop is what drains them. So :class:`DeferredPipeline` keeps the chunks that
arrive while the import runs and hands them to the pipeline, in order, once it is built: the
angles are exactly those of a pipeline built first, emitted a little later (calibration needs
seconds of standing and movement anyway). The kept chunks are caught up a few per pass of the
loop (:data:`CHUNKS_PER_PASS`), never all at once: processing seconds of them in one pass
would stall the loop past the FIFOs' capacity just the same. Each pass returns at most one of
the pipeline's emissions, as it made it (the live metrics depend on how the angles are cut
into emissions, so emissions are never joined).
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

import numpy as np

from hiprot.config import Rig
from hiprot.live_angles import Angles, joined
from hiprot.samples import Chunk

if TYPE_CHECKING:
    from hiprot.calibration import Calibration
    from hiprot.pipeline import Pipeline

CHUNKS_PER_PASS = (
    2  # at most one chunk more than the pass brought: the backlog shrinks by one per pass
)


class DeferredPipeline:
    """A :class:`~hiprot.pipeline.Pipeline` of ``rig`` with the same ``process``/``finish``,
    built on a thread started by the second chunk (the first is with the sinks by then).

    ``also_import``: modules the run will need besides (the live metrics), imported on the
    same thread so that the loop does not stop for them either. Before the pipeline is built
    nothing is calibrated; an error while building it is raised by the next call.
    """

    def __init__(self, rig: Rig, activity: str | None = None, also_import: tuple[str, ...] = ()):
        self.rig = rig
        self._activity = activity
        self._also_import = also_import
        self._pipeline: Pipeline | None = None  # set by the thread
        self._ready: Pipeline | None = None  # the same, once the loop's thread has taken it
        self._error: BaseException | None = None
        self._backlog: list[Chunk] = []
        self._thread: threading.Thread | None = None

    def _build(self) -> None:
        try:
            from hiprot.pipeline import Pipeline

            for name in self._also_import:
                importlib.import_module(name)
            self._pipeline = Pipeline(self.rig)
        except BaseException as exc:  # raised again on the run loop's thread
            self._error = exc

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._build, name="pipeline-import", daemon=True)
            self._thread.start()

    def _built(self, wait: bool) -> Pipeline | None:
        """The pipeline once built (with ``wait``: after waiting for it), else None."""
        if self._ready is not None:
            return self._ready
        if self._thread is None or (self._thread.is_alive() and not wait):
            return None
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._ready = self._pipeline
        self._ready.activity = self._activity
        return self._ready

    def _catch_up(self, pipeline: Pipeline, limit: int) -> Angles:
        """The oldest kept chunks, up to ``limit`` and until one of them brings angles, through
        the pipeline: its emission (or an empty one), with the causal estimates of every chunk
        processed joined."""
        angles, causal = Angles(np.empty(0)), []
        for _ in range(min(limit, len(self._backlog))):
            angles = pipeline.process(self._backlog.pop(0))
            causal += [angles.causal] if angles.causal is not None else []
            if len(angles):
                break
        angles.causal = joined(causal)
        return angles

    def process(self, chunk: Chunk) -> Angles:
        """Like :meth:`Pipeline.process`, a pass behind while chunks are kept: the angles of
        the oldest kept chunks (up to :data:`CHUNKS_PER_PASS`, ``chunk`` last of all)."""
        if self._thread is None and self._backlog:
            self._start()
        self._backlog.append(chunk)
        pipeline = self._built(wait=False)
        if pipeline is None:
            return Angles(np.empty(0))
        return self._catch_up(pipeline, CHUNKS_PER_PASS)

    def finish(self) -> list[Angles]:
        """Like :meth:`Pipeline.finish`, after the chunks still kept (waits for the import):
        each emission they bring, then the angles held back by the delay."""
        self._start()
        pipeline = self._built(wait=True)
        emitted = []
        while self._backlog:
            angles = self._catch_up(pipeline, len(self._backlog))
            if len(angles) or angles.causal is not None:
                emitted.append(angles)
        return [*emitted, pipeline.finish()]

    @property
    def activity(self) -> str | None:
        """Where the rotation-test reference holds (see :class:`~hiprot.pipeline.Pipeline`)."""
        return self._activity

    @activity.setter
    def activity(self, value: str | None) -> None:
        self._activity = value
        if self._ready is not None:
            self._ready.activity = value

    @property
    def calibration(self) -> Calibration | None:
        return self._ready.calibration if self._ready is not None else None

    @property
    def calibration_error(self) -> str | None:
        return self._ready.calibration_error if self._ready is not None else None

    @property
    def calibrated(self) -> dict[str, bool]:
        if self._ready is None:
            return {side: False for side in self.rig.sides}
        return self._ready.calibrated

    @property
    def verdicts(self) -> dict[str, dict]:
        return self._ready.verdicts if self._ready is not None else {}
