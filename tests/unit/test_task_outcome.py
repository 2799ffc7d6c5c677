"""How a background audio task's end is told: one mapping for opening, windows and tiles."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from relay_desktop.core.audio.decode import AudioDecodeError, DecodeCancelled
from relay_desktop.services.audio_tasks import outcome_of


def _raises(exc: BaseException) -> Callable[[], None]:
    def work() -> None:
        raise exc
    return work


def test_a_result_is_finished() -> None:
    assert outcome_of(lambda: 42, "Opening a.wav") == ("finished", 42)


def test_a_cancelled_decode_is_cancelled_not_failed() -> None:
    assert outcome_of(_raises(DecodeCancelled()), "Opening a.wav") == ("cancelled", None)


def test_a_decode_error_is_its_own_sentence() -> None:
    sentence = "The file is damaged: it ends in the middle of a frame."
    assert outcome_of(_raises(AudioDecodeError(sentence)), "Opening a.wav") == ("failed", sentence)


def test_running_out_of_memory_names_the_work() -> None:
    assert outcome_of(_raises(MemoryError()), "The spectrogram") == (
        "failed", "The spectrogram ran out of memory.")


def test_anything_else_is_a_sentence_and_is_logged_with_its_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        kind, value = outcome_of(_raises(ValueError("bad block")), "The spectrogram")
    assert (kind, value) == ("failed", "The spectrogram failed: bad block")
    assert caplog.records and caplog.records[0].exc_info is not None


def test_a_qt_object_deleted_under_the_work_is_raised_not_reported() -> None:
    with pytest.raises(RuntimeError, match="deleted"):
        outcome_of(_raises(RuntimeError("Internal C++ object already deleted.")), "Opening")
