"""The visible undo history of the open set (a ``QUndoView`` with undo/redo buttons)."""

from __future__ import annotations

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QUndoView, QVBoxLayout, QWidget


class HistoryPanel(QWidget):
    """Every edit of the session, newest last; click an entry to go back to it."""

    def __init__(self, stack: QUndoStack | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QUndoView()
        self.view.setObjectName("undoHistory")
        self.view.setEmptyLabel("Opened")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        buttons = QHBoxLayout()
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._stack: QUndoStack | None = None
        self.undo_button.clicked.connect(self._undo)
        self.redo_button.clicked.connect(self._redo)
        self.set_stack(stack)

    def set_stack(self, stack: QUndoStack | None) -> None:
        if self._stack is not None:
            self._stack.canUndoChanged.disconnect(self.undo_button.setEnabled)
            self._stack.canRedoChanged.disconnect(self.redo_button.setEnabled)
        self._stack = stack
        if stack is not None:
            self.view.setStack(stack)
        self.undo_button.setEnabled(bool(stack and stack.canUndo()))
        self.redo_button.setEnabled(bool(stack and stack.canRedo()))
        if stack is not None:
            stack.canUndoChanged.connect(self.undo_button.setEnabled)
            stack.canRedoChanged.connect(self.redo_button.setEnabled)

    def _undo(self) -> None:
        if self._stack is not None:
            self._stack.undo()

    def _redo(self) -> None:
        if self._stack is not None:
            self._stack.redo()
