"""Waveform and spectrogram views, transport and the audio editor."""

from relay_desktop.ui.waveform.editor import AudioEditor
from relay_desktop.ui.waveform.view import WaveformView

__all__ = ["AudioEditor", "WaveformView"]
