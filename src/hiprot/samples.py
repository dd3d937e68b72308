"""The one thing every source yields: timestamped raw IMU samples in SI units."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Chunk = dict  # sensor name -> ImuSamples; a few samples live, a whole session in batch


@dataclass
class ImuSamples:
    """Raw samples of one sensor.

    ``time_s`` (n,) monotonic seconds, ``acc`` (n, 3) specific force in m/s²,
    ``gyr`` (n, 3) angular rate in rad/s, ``mag`` (n, 3) in µT or None; all in
    the sensor frame as the chip's datasheet draws it.
    """

    time_s: np.ndarray
    acc: np.ndarray
    gyr: np.ndarray
    mag: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.time_s = np.asarray(self.time_s, dtype=float).reshape(-1)
        self.acc = np.asarray(self.acc, dtype=float).reshape(-1, 3)
        self.gyr = np.asarray(self.gyr, dtype=float).reshape(-1, 3)
        if self.mag is not None:
            self.mag = np.asarray(self.mag, dtype=float).reshape(-1, 3)
        n = len(self.time_s)
        if (
            len(self.acc) != n
            or len(self.gyr) != n
            or (self.mag is not None and len(self.mag) != n)
        ):
            raise ValueError("time, acc, gyr and mag must have the same number of samples")

    def __len__(self) -> int:
        return len(self.time_s)

    def __getitem__(self, index: slice | np.ndarray) -> ImuSamples:
        mag = None if self.mag is None else self.mag[index]
        return ImuSamples(self.time_s[index], self.acc[index], self.gyr[index], mag)

    @classmethod
    def empty(cls, with_mag: bool = False) -> ImuSamples:
        return cls(
            np.empty(0), np.empty((0, 3)), np.empty((0, 3)), np.empty((0, 3)) if with_mag else None
        )

    @classmethod
    def concat(cls, parts: list[ImuSamples]) -> ImuSamples:
        """Join consecutive pieces of one sensor's stream."""
        if not parts:
            return cls.empty()
        with_mag = all(p.mag is not None for p in parts)
        return cls(
            np.concatenate([p.time_s for p in parts]),
            np.concatenate([p.acc for p in parts]),
            np.concatenate([p.gyr for p in parts]),
            np.concatenate([p.mag for p in parts]) if with_mag else None,
        )


def split_chunk(chunk: Chunk, window_s: float) -> list[Chunk]:
    """Cut a batch chunk into consecutive windows of ``window_s``, as a live source yields them."""
    if not chunk:
        return []
    start = min(s.time_s[0] for s in chunk.values() if len(s))
    stop = max(s.time_s[-1] for s in chunk.values() if len(s))
    edges = start + window_s * np.arange(int(np.floor((stop - start) / window_s)) + 2)
    edges[-1] = max(edges[-1], np.nextafter(stop, np.inf))  # the last window always holds ``stop``
    pieces = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        piece = {}
        for name, s in chunk.items():
            i, j = np.searchsorted(s.time_s, [lo, hi])
            if j > i:
                piece[name] = s[i:j]
        if piece:
            pieces.append(piece)
    return pieces
