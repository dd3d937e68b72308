"""A simulated wearer for the dashboard tests, and a phone to drive the page by touch.

The wearer is the ``guided`` simulator scenario (calibration, seated test, exercises, re-test)
recorded by the same parts as ``hiprot record`` — source, session writer, segment log,
command listener, publisher, run loop — on a clock that runs at most ``speed`` × real time
(as fast as the pipeline reads otherwise, so no sensor FIFO overflows) and holds at the end of each of
the scenario's waits for a prompt until the test releases it: the wearer starts each block
only once the page has asked for it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from hiprot import run_loop
from hiprot.config import Rig
from hiprot.mqtt import Publisher
from hiprot.mqtt.commands import CommandListener
from hiprot.recording import SessionWriter
from hiprot.recording.segments import SegmentLog
from hiprot.sim.scenarios import PROMPT_WAIT_S
from hiprot.sources import open_source

START_GATE_S = 1.0  # the wearer stands, sensors on, until the page says "stand still"


class WearerClock:
    """Sample time at most ``speed`` × wall time, held at each gate until :meth:`release`.

    While held, ``sleep`` blocks: the sensors' time stands still, so the acquisition reads
    nothing and polls no chip (repeated empty reads at one instant would feed its sample
    timer readings without any time between them)."""

    def __init__(self, speed: float):
        self.speed = speed
        self.gates: list[float] = [START_GATE_S]
        self.released = 0
        self._now = 0.0
        self._anchor = (time.monotonic(), 0.0)
        self._changed = threading.Condition()
        self.waiting = threading.Event()  # set while held at a gate

    def now(self) -> float:
        return self._now

    def _gate(self) -> float | None:
        return self.gates[self.released] if self.released < len(self.gates) else None

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        target = self._now + seconds
        with self._changed:
            gate = self._gate()
            if gate is not None and target > gate:
                self._now = max(self._now, gate)
                self.waiting.set()
                while self._gate() == gate:
                    self._changed.wait()
                self.waiting.clear()
                return
        self._now = target
        wall, sample = self._anchor
        ahead = (self._now - sample) / self.speed - (time.monotonic() - wall)
        if ahead > 0:
            time.sleep(ahead)

    def release(self, every: bool = False) -> None:
        """The next block may start (the wearer read its prompt); ``every``: all of them."""
        with self._changed:
            self.released = len(self.gates) if every else self.released + 1
            self._anchor = (time.monotonic(), self._now)
            self._changed.notify_all()


class Wearer:
    """``hiprot record`` of a ``guided`` simulated rig in a thread, on a :class:`WearerClock`."""

    def __init__(self, rig: Rig, out_dir: Path, host: str, port: int, speed: float):
        self.rig, self.out_dir, self.host, self.port = rig, out_dir, host, port
        self.clock = WearerClock(speed)
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.summary = None
        self.error: BaseException | None = None
        self.session: Path | None = None
        self.thread = threading.Thread(target=self._run, name="wearer", daemon=True)

    def start(self) -> Wearer:
        self.thread.start()
        assert self.ready.wait(60), f"the recorder did not start: {self.error!r}"
        return self

    def _run(self) -> None:
        rig = self.rig
        try:
            publisher = Publisher(rig.mqtt, rig.device_id, self.host, self.port)
            publisher.start()
            with open_source(rig, clock=self.clock) as source:
                events = source.simulation.events
                prompts = [e.time_s + PROMPT_WAIT_S for e in events if e.event == "prompt"]
                self.clock.gates += prompts
                writer = SessionWriter(rig, self.out_dir, start=source.start_utc)
                self.session = writer.path
                with (
                    SegmentLog(writer.path, source.elapsed_s) as segments,
                    CommandListener(
                        rig.mqtt,
                        rig.device_id,
                        segments.apply,
                        self.host,
                        self.port,
                        state=segments.state,
                    ) as listener,
                ):
                    assert listener.subscribed.wait(30), "the command listener did not subscribe"
                    self.ready.set()
                    self.summary = run_loop.run(
                        rig,
                        source,
                        writer,
                        publisher,
                        self.stop,
                        segment_activity=segments.open_activity,
                    )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.ready.set()

    def release(self) -> None:
        assert self.error is None, self.error
        self.clock.release()

    def close(self) -> None:
        self.stop.set()
        self.clock.release(every=True)  # a waiting wearer lets the loop see the stop
        self.thread.join(60)


class Phone:
    """The page in headless Chromium as a phone: 390×844, touch events only (CDP taps), text
    typed as an on-screen keyboard does (``Input.insertText``)."""

    def __init__(self, driver, shots: Path):
        self.driver, self.shots, self.count = driver, shots, 0

    def tap(self, element_id: str) -> None:
        element = self.driver.find_element("id", element_id)
        box = self.driver.execute_script(
            "const e = arguments[0]; e.scrollIntoView({block: 'center'});"
            "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];",
            element,
        )
        point = {"x": box[0], "y": box[1], "radiusX": 4, "radiusY": 4}
        self.driver.execute_cdp_cmd(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]}
        )
        self.driver.execute_cdp_cmd(
            "Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []}
        )

    def type(self, element_id: str, text: str) -> None:
        self.tap(element_id)
        self.driver.execute_cdp_cmd("Input.insertText", {"text": text})

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path
