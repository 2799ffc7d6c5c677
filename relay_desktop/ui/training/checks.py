"""The pre-flight list: each training precondition with a pass/fail icon and the fix."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTreeWidget, QTreeWidgetItem

from relay_desktop.api import errors
from relay_desktop.core.training import Check, refusal_checks
from relay_desktop.core.training.preflight import SERVER, TITLES
from relay_desktop.ui.errors import describe_error, field_errors

COLUMNS = ("Check", "Found", "What to do")


def server_checks(exc: BaseException) -> list[Check]:
    """A refused or failed create as failed checks, shown like the local ones."""
    if isinstance(exc, errors.ValidationFailed):
        found = field_errors(exc)
        if found:
            return [Check(SERVER, TITLES[SERVER], False, f"{field} was refused.", message)
                    for field, message in found.items()]
    if isinstance(exc, errors.ApiStatusError) and isinstance(exc.detail, str) and \
            exc.status_code in (400, 409, 422):
        return refusal_checks(exc.detail)
    return [Check(SERVER, TITLES[SERVER], False, "Training could not be started.",
                  describe_error(exc))]


class PreflightList(QTreeWidget):
    """Shows checks: a green tick or red cross, the title, what was found and the fix."""

    def __init__(self, parent: QTreeWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preflightList")
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setWordWrap(True)
        self.setUniformRowHeights(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self._checks: list[Check] = []

    def set_checks(self, checks: Sequence[Check]) -> None:
        self._checks = list(checks)
        self.clear()
        style = self.style()
        ok = style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton)
        bad = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        for check in self._checks:
            item = QTreeWidgetItem([check.title, check.detail, check.fix])
            item.setIcon(0, ok if check.passed else bad)
            item.setData(0, Qt.ItemDataRole.UserRole, check.key)
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole,
                         f"{'Passed' if check.passed else 'Failed'}: {check.title}")
            tip = check.detail + (f"\n\nFix: {check.fix}" if check.fix else "")
            for column in range(len(COLUMNS)):
                item.setToolTip(column, tip)
            self.addTopLevelItem(item)

    def set_message(self, text: str) -> None:
        """One line instead of checks (loading, or why there are none)."""
        self._checks = []
        self.clear()
        self.addTopLevelItem(QTreeWidgetItem([text, "", ""]))

    def checks(self) -> list[Check]:
        return list(self._checks)
