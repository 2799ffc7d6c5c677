"""UnsavedEdits: edits shown in a document whose journal write is not confirmed yet.

An edit is applied to the document at once (drawing stays fluid) and journaled
on the journal thread. If the journal refuses it (disk full, read-only),
:meth:`UnsavedEdits.roll_back` takes it, and every edit made after it (the
journal refuses those too), back out of the document, newest first, and
restores the undo stack as it was before them: a refused new edit leaves the
history, a refused merge is split again, a refused undo or redo is reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtGui import QUndoStack

from relay_desktop.core.annotations.commands import Command
from relay_desktop.core.annotations.document import AnnotationDocument

PUSH, MERGE, UNDO, REDO = "push", "merge", "undo", "redo"


class StackEntry(Protocol):
    """What the undo stack holds (the session's ``EditCommand``)."""

    command: Command

    def setText(self, text: str) -> None: ...

    def setObsolete(self, obsolete: bool) -> None: ...


@dataclass
class _Unsaved:
    ticket: int
    applied: Command       # what changed the document
    entry: StackEntry      # the undo-stack command it came from
    op: str                # PUSH, MERGE (into ``entry``), UNDO or REDO of ``entry``
    prior: Command | None = None  # MERGE: ``entry.command`` before the merge


class UnsavedEdits:
    """The edits of one session waiting for the journal, oldest first."""

    def __init__(self) -> None:
        self._edits: list[_Unsaved] = []

    def __len__(self) -> int:
        return len(self._edits)

    def add(self, ticket: int, applied: Command, entry: StackEntry, op: str) -> None:
        self._edits.append(_Unsaved(ticket, applied, entry, op))

    def merged(self, absorbed: Any, into: StackEntry, prior: Command) -> None:
        """The stack merged the edit of ``absorbed`` into ``into`` (whose command was ``prior``)."""
        for edit in reversed(self._edits):
            if edit.entry is absorbed and edit.op == PUSH:
                edit.entry, edit.op, edit.prior = into, MERGE, prior
                return

    def saved(self, tickets: list[int]) -> None:
        """The journal stored these tickets, and so every earlier one (it writes in order)."""
        last = max(tickets)
        self._edits = [e for e in self._edits if e.ticket > last]

    def clear(self) -> None:
        self._edits.clear()

    def roll_back(self, first_ticket: int, document: AnnotationDocument,
                  stack: QUndoStack) -> int:
        """Undo the edits from ``first_ticket`` on in the document and the stack; how many.

        The caller keeps the stack's commands from touching the document meanwhile.
        If the stack no longer matches (it was changed behind our back) it is cleared:
        the document is what matters.
        """
        doomed = [e for e in self._edits if e.ticket >= first_ticket]
        self._edits = [e for e in self._edits if e.ticket < first_ticket]
        for edit in reversed(doomed):
            edit.applied.inverted().apply(document)
        if not all(_restore(stack, edit) for edit in reversed(doomed)):
            stack.clear()
        return len(doomed)


def _restore(stack: QUndoStack, edit: _Unsaved) -> bool:
    """Put ``stack`` back as it was before ``edit``; False if it is not as expected."""
    index = stack.index()
    if edit.op == UNDO:
        if index >= stack.count() or stack.command(index) is not edit.entry:
            return False
        stack.redo()
        return True
    if index == 0 or stack.command(index - 1) is not edit.entry:
        return False
    if edit.op == MERGE and edit.prior is not None:
        edit.entry.command = edit.prior
        edit.entry.setText(edit.prior.text)
        return True
    if edit.op == PUSH:
        edit.entry.setObsolete(True)  # undo() then drops it without running it
    stack.undo()
    return True
