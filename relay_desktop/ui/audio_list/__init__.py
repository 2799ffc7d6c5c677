"""The audio file list of the selected dataset: a lazily paged table model and its view."""

from relay_desktop.ui.audio_list.model import AUDIO_ROLE, AudioListModel
from relay_desktop.ui.audio_list.view import AudioListView

__all__ = ["AUDIO_ROLE", "AudioListModel", "AudioListView"]
