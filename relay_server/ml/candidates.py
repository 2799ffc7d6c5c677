"""Artifact-shaped runs in a file's frame signals: dropouts and noise bursts.

Both the window features and the edge refinement use them: a window says
whether a glitch is there, these say which stretch it is.
"""

from __future__ import annotations

import numpy as np

from relay_server.ml.features import FINE_MS, FrameFeatures

DROP_LOW_DB = -35.0  # a dropout is a run of fine frames this far below the speech level...
DROP_EDGE_DB = -20.0  # ...with sound at least this loud within DROP_EDGE_FRAMES on each side
DROP_EDGE_FRAMES = 6
DROP_FLOOR_DB = 3.0  # (in a noisy file: within this of its noise floor)
DROP_MIN_MS, DROP_MAX_MS = 10, 200
BURST_WHITE_DB = -2.0  # high-pass energy at least this close to the full energy: broadband
BURST_LEVEL_DB = -4.0  # and about as loud as the speech level (fricatives are quieter)


def dropout_runs(fine_db: np.ndarray, speech_db: float,
                 floor_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Fine-frame [start, end) of abrupt low runs inside sound: what a dropout looks like.

    A run of frames more than 35 dB under the speech level (or, in a noisy
    file, down at its noise floor), 10-200 ms long, with loud sound (within
    20 dB of the speech level) within 12 ms before and after it; a codec's
    smearing of the edges is tolerated that way.
    """
    low = fine_db < max(speech_db + DROP_LOW_DB, floor_db + DROP_FLOOR_DB)
    edges = np.diff(np.concatenate([[0], low.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = (ends - starts) * FINE_MS
    keep = (lengths >= DROP_MIN_MS) & (lengths <= DROP_MAX_MS)
    starts, ends = starts[keep], ends[keep]
    loud = fine_db >= speech_db + DROP_EDGE_DB
    loud_count = np.concatenate([[0], np.cumsum(loud)])
    n = len(fine_db)
    before = loud_count[starts] - loud_count[np.maximum(starts - DROP_EDGE_FRAMES, 0)]
    after = (loud_count[np.minimum(ends + DROP_EDGE_FRAMES, n)] - loud_count[ends])
    abrupt = (before > 0) & (after > 0)
    return starts[abrupt], ends[abrupt]


def noise_runs(ff: FrameFeatures, speech_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Fine-frame [start, end) of loud, white-noise-like runs (at least 10 ms): bursts.

    Frames as loud as speech (within ``BURST_LEVEL_DB``) whose first
    difference carries as much energy as the signal itself: only broadband
    noise does that; voiced speech has far less high-pass energy. Gaps of
    up to 4 ms are closed.
    """
    noisy = ((ff.fine_hp_db - ff.fine_db > BURST_WHITE_DB)
             & (ff.fine_db > speech_db + BURST_LEVEL_DB))
    edges = np.diff(np.concatenate([[0], noisy.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) > 1:
        join = (starts[1:] - ends[:-1]) <= 2
        starts = np.concatenate([starts[:1], starts[1:][~join]])
        ends = np.concatenate([ends[:-1][~join], ends[-1:]])
    keep = (ends - starts) * FINE_MS >= 10
    return starts[keep], ends[keep]
