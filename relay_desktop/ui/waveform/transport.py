"""Transport bar: play/pause, stop, play selection, loop, follow, rate, volume, time, views."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from relay_desktop.core.audio.spectrogram import COLORMAPS, WINDOW_SIZES
from relay_desktop.core.audio.timefmt import format_ms
from relay_desktop.ui.waveform.spectrogram_prefs import SpectrogramChoices
from relay_desktop.ui.waveform.time_entry import TimeEntry

RATES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
NO_DEVICE = "No audio output device"
NO_DEVICE_HELP = ("No audio output device: connect one or start PulseAudio; playback "
                  "will start when one appears.")


def glyph_icon(kind: str, color: str = "#e8eaed", disabled: str = "#5c6370") -> QIcon:
    """A crisp play/pause/stop glyph that reads well on the dark transport bar."""
    icon = QIcon()
    for mode, fill in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, disabled)):
        pixmap = QPixmap(36, 36)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(fill))
        if kind == "play":
            painter.drawPolygon(QPolygonF([QPointF(9, 5), QPointF(31, 18), QPointF(9, 31)]))
        elif kind == "pause":
            painter.drawRect(QRectF(8, 6, 7, 24))
            painter.drawRect(QRectF(21, 6, 7, 24))
        else:
            painter.drawRect(QRectF(8, 8, 20, 20))
        painter.end()
        icon.addPixmap(pixmap, mode)
    return icon


def _chooser(box: QComboBox, index: int) -> Callable[[], None]:
    """A slot that picks ``index`` in ``box`` (for the overflow menu's entries)."""
    return lambda: box.setCurrentIndex(index)


def _separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setObjectName("transportSeparator")
    return line


class TransportBar(QWidget):
    """Play controls and view options of the audio editor (no logic of its own).

    Signals:
        play_toggled(): play/pause pressed.
        stop_requested(): stop pressed.
        play_selection_requested(): "play selection" pressed.
        loop_toggled(bool), follow_toggled(bool): the toggles changed.
        rate_changed(float): a playback rate was chosen.
        volume_changed(float): the volume slider moved (0.0-1.0).
        zoom_requested(str): "in", "out", "fit" or "selection".
        channel_mode_changed(str): "mix" or "channels".
        spectrogram_toggled(bool): show/hide the spectrogram.
        spectrogram_params_changed(int, float, float): window size, dB floor, dB ceiling.
        spectrogram_colormap_changed(str): a colour map was chosen (one of ``COLORMAPS``).
        seek_requested(float): a time (seconds) was typed into the time display.
    """

    play_toggled = Signal()
    stop_requested = Signal()
    play_selection_requested = Signal()
    loop_toggled = Signal(bool)
    follow_toggled = Signal(bool)
    rate_changed = Signal(float)
    volume_changed = Signal(float)
    zoom_requested = Signal(str)
    channel_mode_changed = Signal(str)
    spectrogram_toggled = Signal(bool)
    spectrogram_params_changed = Signal(int, float, float)
    spectrogram_colormap_changed = Signal(str)
    seek_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transportBar")
        self._icon_play = glyph_icon("play")
        self._icon_pause = glyph_icon("pause")

        def button(text: str, tip: str, icon: str | None = None,
                   checkable: bool = False) -> QToolButton:
            b = QToolButton(self)
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setCheckable(checkable)
            b.setIconSize(QSize(18, 18))
            if icon is not None:
                b.setIcon(glyph_icon(icon))
                b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            return b

        self.play_button = button("Play", "Play / pause (Space)", "play")
        self.stop_button = button("Stop", "Stop", "stop")
        self.selection_button = button("Play sel.", "Play the selection (Shift+Space)")
        self.selection_button.setEnabled(False)
        self.loop_button = button("Loop", "Loop playback (L)", checkable=True)
        self.follow_button = button("Follow", "Keep the playhead in view", checkable=True)
        self.follow_button.setChecked(True)
        self.rate_box = QComboBox(self)
        self.rate_box.setToolTip("Playback rate")
        for rate in RATES:
            self.rate_box.addItem(f"{rate:g}\N{MULTIPLICATION SIGN}", rate)
        self.rate_box.setCurrentIndex(RATES.index(1.0))
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setObjectName("volumeSlider")
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setValue(100)
        self.volume_slider.setSingleStep(5)
        self.volume_slider.setPageStep(10)
        self.volume_slider.setFixedWidth(72)
        self.volume_slider.setAccessibleName("Volume")
        self.volume_slider.setToolTip("Volume: 100%")
        self.time_label = QLabel("0:00:00.000", self)
        self.time_label.setObjectName("transportTime")
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.time_label.setToolTip("Playback position / duration")
        self.time_entry = TimeEntry(self.time_label, self)
        self.time_entry.entered.connect(self.seek_requested)
        self.output_label = QLabel("", self)
        self.output_label.setObjectName("transportNoOutput")
        self.output_label.hide()

        self.zoom_in_button = button("+", "Zoom in (+)")
        self.zoom_out_button = button("\N{MINUS SIGN}", "Zoom out (-)")
        self.zoom_fit_button = button("Fit", "Zoom to fit (F)")
        self.zoom_sel_button = button("Sel", "Zoom to selection (Z)")
        self.channel_box = QComboBox(self)
        self.channel_box.addItem("Mixed", "mix")
        self.channel_box.addItem("Per channel", "channels")
        self.channel_box.setToolTip("Show the channels mixed or one lane per channel")
        self.spec_button = button("Spectrogram", "Show the spectrogram (the arrow: its settings)",
                                  checkable=True)
        self.spec_button.setChecked(True)
        self.spec_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        settings = QWidget(self)
        settings.setObjectName("spectrogramSettings")
        form = QFormLayout(settings)
        form.setContentsMargins(10, 8, 10, 8)
        self.window_box = QComboBox(settings)
        self.window_box.setToolTip("Spectrogram FFT window (samples)")
        for size in WINDOW_SIZES:
            self.window_box.addItem(str(size), size)
        self.window_box.setCurrentIndex(WINDOW_SIZES.index(1024))
        self.db_floor = QSpinBox(settings)
        self.db_floor.setRange(-160, -10)
        self.db_floor.setValue(-96)
        self.db_floor.setSuffix(" dB")
        self.db_floor.setToolTip("Spectrogram floor")
        self.db_ceiling = QSpinBox(settings)
        self.db_ceiling.setRange(-100, 20)
        self.db_ceiling.setValue(-12)
        self.db_ceiling.setSuffix(" dB")
        self.db_ceiling.setToolTip("Spectrogram ceiling")
        form.addRow("FFT window", self.window_box)
        form.addRow("Floor", self.db_floor)
        form.addRow("Ceiling", self.db_ceiling)
        self.colormap_box = QComboBox(settings)
        self.colormap_box.setToolTip("Spectrogram colours")
        for name in COLORMAPS:
            self.colormap_box.addItem(name.capitalize(), name)
        self.colormap_box.setFixedWidth(96)
        form.addRow("Colours", self.colormap_box)
        menu = QMenu(self.spec_button)
        action = QWidgetAction(menu)
        action.setDefaultWidget(settings)
        menu.addAction(action)
        self.spec_button.setMenu(menu)

        for box, width in ((self.rate_box, 62), (self.window_box, 80), (self.db_floor, 80),
                           (self.db_ceiling, 80), (self.channel_box, 104)):
            box.setFixedWidth(width)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.setSpacing(4)
        left: list[QWidget] = [self.play_button, self.stop_button, self.selection_button,
                               self.loop_button, self.follow_button, self.rate_box,
                               self.volume_slider, _separator(), self.time_label]
        for w in left:
            layout.addWidget(w)
        layout.addStretch(1)
        # controls that no longer fit stay reachable from this overflow menu
        self.more_button = QToolButton(self)
        self.more_button.setObjectName("transportMore")
        self.more_button.setText("»")
        self.more_button.setToolTip("More controls (the window is too narrow to show them all)")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_menu = QMenu(self.more_button)
        self.more_menu.aboutToShow.connect(self._fill_more_menu)
        self.more_button.setMenu(self.more_menu)
        self.more_button.setVisible(False)
        right: list[QWidget] = [self.zoom_in_button, self.zoom_out_button, self.zoom_fit_button,
                                self.zoom_sel_button, _separator(), self.channel_box,
                                _separator(), self.spec_button, self.more_button]
        for w in right:
            layout.addWidget(w)

        self.play_button.clicked.connect(self.play_toggled)
        self.stop_button.clicked.connect(self.stop_requested)
        self.selection_button.clicked.connect(self.play_selection_requested)
        self.loop_button.toggled.connect(self.loop_toggled)
        self.follow_button.toggled.connect(self.follow_toggled)
        self.rate_box.currentIndexChanged.connect(
            lambda i: self.rate_changed.emit(float(self.rate_box.itemData(i))))
        self.volume_slider.valueChanged.connect(self._volume_moved)
        self.zoom_in_button.clicked.connect(lambda: self.zoom_requested.emit("in"))
        self.zoom_out_button.clicked.connect(lambda: self.zoom_requested.emit("out"))
        self.zoom_fit_button.clicked.connect(lambda: self.zoom_requested.emit("fit"))
        self.zoom_sel_button.clicked.connect(lambda: self.zoom_requested.emit("selection"))
        self.channel_box.currentIndexChanged.connect(
            lambda i: self.channel_mode_changed.emit(str(self.channel_box.itemData(i))))
        self.spec_button.toggled.connect(self._spec_toggled)
        self.window_box.currentIndexChanged.connect(self._emit_spec_params)
        self.db_floor.valueChanged.connect(self._emit_spec_params)
        self.db_ceiling.valueChanged.connect(self._emit_spec_params)
        self.colormap_box.currentIndexChanged.connect(
            lambda i: self.spectrogram_colormap_changed.emit(str(self.colormap_box.itemData(i))))
        self._duration_ms = 0
        self.set_file_loaded(False)

    def _spec_toggled(self, on: bool) -> None:
        for w in (self.window_box, self.db_floor, self.db_ceiling, self.colormap_box):
            w.setEnabled(on)
        self.spectrogram_toggled.emit(on)

    def _volume_moved(self, value: int) -> None:
        self.volume_slider.setToolTip(f"Volume: {value}%")
        self.volume_changed.emit(value / 100.0)

    def step_volume(self, steps: int) -> None:
        """Move the volume by ``steps`` page steps (10% each)."""
        slider = self.volume_slider
        slider.setValue(slider.value() + steps * slider.pageStep())

    def step_rate(self, steps: int) -> None:
        """Choose the next faster (1) or slower (-1) rate."""
        index = min(max(0, self.rate_box.currentIndex() + steps), self.rate_box.count() - 1)
        self.rate_box.setCurrentIndex(index)

    def set_rate(self, rate: float) -> None:
        index = self.rate_box.findData(rate)
        if index >= 0:
            self.rate_box.setCurrentIndex(index)

    def _emit_spec_params(self) -> None:
        floor, ceiling = self.db_floor.value(), self.db_ceiling.value()
        if ceiling <= floor:
            ceiling = floor + 1
        self.spectrogram_params_changed.emit(int(self.window_box.currentData()), float(floor),
                                             float(ceiling))

    def spectrogram_choices(self) -> SpectrogramChoices:
        """What the spectrogram settings menu shows now."""
        return SpectrogramChoices(int(self.window_box.currentData()), self.db_floor.value(),
                                  self.db_ceiling.value(), str(self.colormap_box.currentData()))

    def set_spectrogram_choices(self, choices: SpectrogramChoices) -> None:
        """Show ``choices`` in the menu and emit them once (params, then the colour map)."""
        boxes = (self.window_box, self.db_floor, self.db_ceiling, self.colormap_box)
        for box in boxes:
            box.blockSignals(True)
        try:
            self.window_box.setCurrentIndex(max(0, self.window_box.findData(choices.window)))
            self.db_floor.setValue(choices.floor)
            self.db_ceiling.setValue(choices.ceiling)
            self.colormap_box.setCurrentIndex(max(0, self.colormap_box.findData(choices.colormap)))
        finally:
            for box in boxes:
                box.blockSignals(False)
        self._emit_spec_params()
        self.spectrogram_colormap_changed.emit(str(self.colormap_box.currentData()))

    # -- state from the editor ---------------------------------------------------------------

    def set_file_loaded(self, loaded: bool, channels: int = 1) -> None:
        for w in (self.zoom_in_button, self.zoom_out_button, self.zoom_fit_button,
                  self.zoom_sel_button):
            w.setEnabled(loaded)
        self.channel_box.setEnabled(loaded and channels > 1)
        self._update_play_enabled(loaded)

    def _update_play_enabled(self, loaded: bool) -> None:
        # without a device Play stays enabled: pressing it says what is wrong
        for w in (self.play_button, self.stop_button):
            w.setEnabled(loaded)
        self._loaded = loaded

    def set_output_available(self, available: bool) -> None:
        """Say what is wrong and what to do while there is no output device."""
        self.output_label.setText("" if available else NO_DEVICE_HELP)
        self.output_label.setToolTip("" if available else NO_DEVICE_HELP)
        self.output_label.setVisible(not available)
        self.play_button.setToolTip("Play / pause (Space)" if available
                                    else f"Play / pause (Space). {NO_DEVICE_HELP}")
        self._update_play_enabled(getattr(self, "_loaded", False))

    def set_selection_available(self, available: bool) -> None:
        self.selection_button.setEnabled(available)
        self.zoom_sel_button.setEnabled(available)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setIcon(self._icon_pause if playing else self._icon_play)
        self.play_button.setText("Pause" if playing else "Play")

    def set_duration(self, ms: int) -> None:
        self._duration_ms = ms

    def set_position(self, ms: int) -> None:
        self.time_label.setText(f"{format_ms(ms)} / {format_ms(self._duration_ms)}")

    def showEvent(self, ev: object) -> None:
        super().showEvent(ev)  # type: ignore[arg-type]
        # wide enough for "h:mm:ss.mmm / h:mm:ss.mmm" in the label's own (monospace) font
        metrics = self.time_label.fontMetrics()
        self.time_label.setMinimumWidth(metrics.horizontalAdvance("0:00:00.000 / 0:00:00.000")
                                        + 20)
        self._fit_to_width()

    def resizeEvent(self, ev: object) -> None:
        super().resizeEvent(ev)  # type: ignore[arg-type]
        self._fit_to_width()

    def _fit_to_width(self) -> None:
        """Hide the least needed controls (all have keys) rather than overlap when narrow."""
        layout = self.layout()
        if layout is None:
            return
        optional = [self.volume_slider, self.channel_box, self.zoom_sel_button,
                    self.zoom_fit_button, self.zoom_out_button, self.zoom_in_button,
                    self.rate_box, self.follow_button, self.loop_button, self.selection_button]
        for w in optional:
            w.setVisible(True)
        self.more_button.setVisible(False)
        for w in optional:
            layout.invalidate()
            if layout.minimumSize().width() <= self.width():
                break
            w.setVisible(False)
            self.more_button.setVisible(True)

    def _fill_more_menu(self) -> None:
        """The overflow menu: an entry for every control hidden for lack of room."""
        menu = self.more_menu
        menu.clear()
        if self.selection_button.isHidden():
            menu.addAction("Play selection", self.selection_button.click).setEnabled(
                self.selection_button.isEnabled())
        for toggle, text in ((self.loop_button, "Loop"), (self.follow_button, "Follow")):
            if toggle.isHidden():
                action = menu.addAction(text, toggle.toggle)
                action.setCheckable(True)
                action.setChecked(toggle.isChecked())
        if self.rate_box.isHidden():
            rates = menu.addMenu("Speed")
            for i in range(self.rate_box.count()):
                action = rates.addAction(self.rate_box.itemText(i))
                action.triggered.connect(_chooser(self.rate_box, i))
                action.setCheckable(True)
                action.setChecked(i == self.rate_box.currentIndex())
        for button, text in ((self.zoom_in_button, "Zoom in"),
                             (self.zoom_out_button, "Zoom out"),
                             (self.zoom_fit_button, "Fit the whole file"),
                             (self.zoom_sel_button, "Zoom to the selection")):
            if button.isHidden():
                action = menu.addAction(text, button.click)
                action.setEnabled(button.isEnabled())
        if self.channel_box.isHidden():
            channels = menu.addMenu("Channels")
            for i in range(self.channel_box.count()):
                action = channels.addAction(self.channel_box.itemText(i))
                action.triggered.connect(_chooser(self.channel_box, i))
                action.setCheckable(True)
                action.setChecked(i == self.channel_box.currentIndex())
            channels.setEnabled(self.channel_box.isEnabled())
        if self.volume_slider.isHidden():
            menu.addAction(f"Volume up (now {self.volume_slider.value()}%)",
                           lambda: self.step_volume(1))
            menu.addAction("Volume down", lambda: self.step_volume(-1))
