"""A recording process for the kill tests: the real logger loop and writer on simulated samples.

Usage: ``python recording_process.py OUT_DIR``. Prints ``ready SESSION_DIR``
once the session exists, then ``sent T`` after each chunk (ending at sample
time T) has been handed to the writer, pacing the chunks at real time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from hiprot import run_loop
from hiprot.config import load_rig
from hiprot.recording import SessionWriter
from hiprot.samples import split_chunk
from hiprot.sim import simulate

RIG = Path(__file__).resolve().parents[2] / "config" / "sim.toml"
DURATION_S = 30.0
CHUNK_S = 0.05


def sent_samples():
    """What this process sends: deterministic, so the test can rebuild it."""
    rig = load_rig(RIG)
    return rig, simulate(rig, DURATION_S).samples


def paced(chunks):
    start = time.monotonic()
    for chunk in chunks:
        end = float(max(s.time_s[-1] for s in chunk.values()))
        delay = start + end - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        yield chunk
        # the loop has handed this chunk to the writer when it asks for the next one
        print(f"sent {end!r}", flush=True)


def main() -> None:
    rig, samples = sent_samples()
    writer = SessionWriter(rig, Path(sys.argv[1]))
    print(f"ready {writer.path}", flush=True)
    run_loop.run(rig, paced(split_chunk(samples, CHUNK_S)), writer, None)


if __name__ == "__main__":
    main()
