"""Window layout: a sensible first size, no empty docks on the welcome page, a Labels dock
that keeps its room, Reset layout = first run, and transport controls that stay reachable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QMenu, QPushButton, QWidget

from relay_desktop.api import RelayClient
from relay_desktop.app import Application
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.context import AppContext
from relay_desktop.ui.datasets import DeleteDatasetDialog
from relay_desktop.ui.main_window import SCREEN_SHARE
from relay_desktop.ui.theme import ThemeManager
from relay_desktop.ui.waveform.axis import FrequencyAxisItem
from relay_desktop.ui.waveform.transport import TransportBar
from tests.gui.conftest import unique

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


@pytest.fixture
def shell(qtbot: Any, gui_paths: AppPaths) -> Iterator[Application]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    desk = Application(app, gui_paths)
    qtbot.addWidget(desk.window)
    yield desk
    desk.shutdown()


def test_the_first_window_takes_a_sensible_share_of_the_screen_centred(
        shell: Application) -> None:
    window = shell.window
    window.fit_to_screen()
    area = window.screen().availableGeometry()
    assert window.width() == int(area.width() * SCREEN_SHARE)
    assert window.height() == int(area.height() * SCREEN_SHARE)
    assert abs(window.geometry().center().x() - area.center().x()) <= 1
    assert abs(window.geometry().center().y() - area.center().y()) <= 1


def test_the_welcome_page_shows_no_empty_labels_dock(
        qtbot: Any, shell: Application, app_context: AppContext) -> None:
    window = shell.window
    window.show()
    window.show_first_run()
    assert window.pages.currentWidget() is window.first_run
    assert not shell._labels_dock.isVisibleTo(window)
    window.set_context(app_context)
    assert shell._labels_dock.isVisibleTo(window)
    assert window.dockWidgetArea(shell._labels_dock) == RIGHT, "full height, beside the editor"
    window.set_context(None)
    assert not shell._labels_dock.isVisibleTo(window)


def test_reset_layout_gives_the_first_run_arrangement(
        qtbot: Any, shell: Application, app_context: AppContext) -> None:
    window = shell.window
    window.resize(1400, 860)
    window.show()
    window.set_context(app_context)
    labels = shell._labels_dock
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, labels)
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, window.audio_dock)
    window.log_dock.show()
    window.reset_layout()
    qtbot.wait(50)
    assert window.dockWidgetArea(labels) == RIGHT and labels.isVisible()
    assert window.dockWidgetArea(window.audio_dock) == BOTTOM
    assert not window.log_dock.isVisible() and not window.uploads_dock.isVisible()
    qtbot.waitUntil(lambda: labels.width() >= window._side_width() - 8, timeout=3000)
    window.set_context(None)


def test_shrinking_then_enlarging_gives_the_labels_dock_its_room_back(
        qtbot: Any, shell: Application, app_context: AppContext) -> None:
    window = shell.window
    window.resize(1600, 1000)
    window.show()
    window.set_context(app_context)
    qtbot.waitExposed(window)
    labels = shell._labels_dock
    window._default_sizes()
    qtbot.waitUntil(lambda: labels.width() >= 440, timeout=3000)
    window.resize(900, 650)
    qtbot.waitUntil(lambda: window.width() == 900, timeout=3000)
    window.resizeDocks([labels], [200], Qt.Orientation.Horizontal)  # squeezed
    qtbot.wait(20)
    window.resize(1600, 1000)
    qtbot.waitUntil(lambda: labels.width() >= window._side_width() - 8, timeout=3000)
    window.set_context(None)


def test_transport_controls_that_do_not_fit_move_to_an_overflow_menu(qtbot: Any) -> None:
    host = QWidget()  # a child, so it can be narrower than its layout's minimum
    qtbot.addWidget(host)
    host.resize(1400, 40)
    bar = TransportBar(host)
    bar.set_file_loaded(True)
    bar.setGeometry(0, 0, 1400, 40)
    host.show()
    qtbot.waitExposed(host)
    assert bar.more_button.isHidden() and not bar.zoom_fit_button.isHidden()
    bar.setGeometry(0, 0, 430, 40)
    qtbot.waitUntil(lambda: bar.zoom_fit_button.isHidden(), timeout=3000)
    assert not bar.more_button.isHidden()
    assert bar.more_button.geometry().right() <= bar.width()
    bar._fill_more_menu()
    texts = [a.text() for a in bar.more_menu.actions()]
    assert {"Zoom in", "Zoom out", "Fit the whole file", "Channels"} <= set(texts)
    zooms: list[str] = []
    bar.zoom_requested.connect(zooms.append)
    next(a for a in bar.more_menu.actions() if a.text() == "Fit the whole file").trigger()
    assert zooms == ["fit"]
    channels = next(a for a in bar.more_menu.actions() if a.text() == "Channels").menu()
    assert isinstance(channels, QMenu)
    channels.actions()[1].trigger()
    assert bar.channel_box.currentIndex() == 1


def test_the_delete_dataset_confirmation_shows_all_of_its_text(
        qtbot: Any, api_worker: ApiWorker, live_client: RelayClient) -> None:
    name = unique("A dataset with a long descriptive name that wraps over several lines")
    created = live_client.datasets.create(name, artifact_types=[{"name": "click"}])
    uncounted = replace(created, audio_count=None, annotation_set_count=None)
    dialog = DeleteDatasetDialog(api_worker, uncounted)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.counts is not None, timeout=15000)
    qtbot.wait(20)
    message = dialog.message
    assert "permanently removes 0 audio files" in message.text()
    assert message.height() >= message.heightForWidth(message.width())
    layout = dialog.layout()
    assert layout is not None
    assert dialog.height() >= layout.totalHeightForWidth(dialog.width())


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_a_disabled_primary_button_does_not_look_pressable(qtbot: Any, mode: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    old_sheet, old_palette = app.styleSheet(), app.palette()
    theme = ThemeManager(app, mode)
    try:
        theme.apply()
        accent = QColor(theme.colors().accent)
        box = QWidget()
        qtbot.addWidget(box)
        enabled, disabled = QPushButton("Import", box), QPushButton("Publish…", box)
        for button, x in ((enabled, 0), (disabled, 150)):
            button.setDefault(True)
            button.setGeometry(x, 0, 140, 34)
        disabled.setEnabled(False)
        box.resize(300, 40)
        box.show()
        qtbot.waitExposed(box)

        def fill(button: QPushButton) -> QColor:
            return button.grab().toImage().pixelColor(8, button.height() // 2)

        assert fill(enabled) == accent, "an enabled primary button has the accent colour"
        assert fill(disabled) != accent and fill(disabled) == QColor(theme.colors().button)
    finally:
        theme.close()
        app.setStyleSheet(old_sheet)
        app.setPalette(old_palette)


def test_the_spectrogram_keeps_its_top_label_clear_of_the_waveforms_bottom_label(
        qtbot: Any) -> None:
    axis = FrequencyAxisItem("left")
    values = [v for _spacing, level in axis.tickValues(0.0, 8000.0, 150.0) for v in level]
    assert values, "the axis is still labelled"
    assert max(values) <= 8000.0 * (1 - FrequencyAxisItem.TOP_CLEARANCE_PX / 150.0)
    assert 8000.0 not in values


def test_audio_file_names_keep_a_readable_width_and_elide_in_the_middle(qtbot: Any) -> None:
    from relay_desktop.ui.audio_list import AudioListView

    view = AudioListView()
    qtbot.addWidget(view)
    view.resize(600, 300)  # narrower than all the columns: the others scroll, not the name
    view.show()
    qtbot.waitExposed(view)
    assert view.table.textElideMode() == Qt.TextElideMode.ElideMiddle
    name = view.table.fontMetrics().horizontalAdvance("demo-03-en-gb-scotland.ogg")
    assert view.table.columnWidth(0) >= name + 8


def test_the_file_line_under_a_narrow_editor_elides_the_name_instead_of_vanishing(
        qtbot: Any, gui_paths: AppPaths) -> None:
    from relay_desktop.ui.elided_label import MIN_WIDTH_PX
    from relay_desktop.ui.waveform.editor import AudioEditor

    host = QWidget()  # a child, so it can be narrower than its layout's minimum (as in
    qtbot.addWidget(host)  # the main window's central area)
    host.resize(1600, 400)
    editor = AudioEditor(paths=gui_paths, parent=host)
    name = "heldout-01-en-gb-x-gbcwmd.ogg · OGG VORBIS · 16 kHz · mono · 0:00:38.224"
    editor.properties.setText(name)
    editor.selection_bar.set_duration(38.224)   # a file is open: the selection fields show
    editor.setGeometry(0, 0, 440, 400)   # its width in a 1000x700 window with both side docks
    host.show()
    qtbot.waitExposed(host)
    label = editor.properties
    qtbot.waitUntil(lambda: label.width() >= MIN_WIDTH_PX, timeout=3000)
    shown = label.shown_text()
    assert shown.endswith("…") and shown[:-1] and name.startswith(shown[:-1])
    assert label.toolTip() == name and label.text() == name
    editor.setGeometry(0, 0, 1600, 400)
    qtbot.waitUntil(lambda: label.shown_text() == name, timeout=3000)
    editor.shutdown()


def test_the_selection_fields_give_way_under_a_narrow_editor_instead_of_overlapping(
        qtbot: Any, gui_paths: AppPaths) -> None:
    from relay_desktop.ui.waveform.editor import AudioEditor

    host = QWidget()  # a child can be narrower than its layout's minimum, as in the window
    qtbot.addWidget(host)
    host.resize(1600, 400)
    editor = AudioEditor(paths=gui_paths, parent=host)
    bar = editor.selection_bar
    bar.set_duration(38.224)
    bar.set_selection(33.488, 34.104)
    host.show()
    qtbot.waitExposed(host)

    def shown_parts() -> list[QWidget]:
        parts = [bar.title, *bar.labels.values(), *bar.fields.values()]
        return sorted((p for p in parts if p.isVisible()), key=lambda p: p.x())

    for width, least_shown in ((1600, 7), (440, 4), (330, 2)):
        editor.setGeometry(0, 0, width, 400)
        qtbot.waitUntil(lambda w=width: bar.width() <= w, timeout=3000)
        QApplication.processEvents()
        parts = shown_parts()
        assert len(parts) >= least_shown, (width, [p.objectName() for p in parts])
        assert bar.fields["start"].isVisible() and bar.fields["end"].isVisible()
        for left, right in pairwise(parts):   # side by side, never over
            assert left.geometry().right() < right.geometry().left(), (width, left, right)
        assert parts[-1].geometry().right() < bar.width()
    assert bar.compactness() >= 1 and not bar.title.isVisible()
    editor.setGeometry(0, 0, 1600, 400)                 # room again: everything comes back
    qtbot.waitUntil(lambda: bar.compactness() == 0, timeout=3000)
    assert bar.title.isVisible() and bar.fields["length"].isVisible()
    assert bar.fields["length"].text() == "0:00:00.616"
    editor.properties.setText("take-0042.wav  ·  WAV  ·  48 kHz  ·  stereo  ·  " * 4)
    editor.setGeometry(0, 0, 760, 400)   # a long file name wants every spare pixel
    qtbot.waitUntil(lambda: bar.width() < 760, timeout=3000)
    QApplication.processEvents()
    assert bar.compactness() == 0
    assert bar.title.x() == 0, bar.title.geometry()  # it asks for what its parts take
    assert editor.properties.geometry().right() + 20 >= bar.geometry().left()
    editor.shutdown()
