"""The review keys, as keymap commands of their own ``"review"`` scope.

They are live while the review panel or the editor showing a reviewed detection
has the focus, and take precedence there over the editor's keys of the same name
(N/P, 1-9); being in their own scope they never clash in the keymap. Undo
(Ctrl+Z) is the window's Edit > Undo key: the panel takes it while a review step
can be undone.
"""

from __future__ import annotations

from relay_desktop.core.keymap import Command, Keymap

REVIEW = "review"
GROUP = "Review"
NUDGE_MS = 10


def _relabel() -> list[Command]:
    return [Command(f"review.type_{n}", GROUP, f"Relabel the detection to the dataset's "
                    f"type {n}", (str(n),), REVIEW) for n in range(1, 10)]


REVIEW_COMMANDS: tuple[Command, ...] = (
    Command("review.accept", GROUP, "Accept the detection (into the draft)", ("A",), REVIEW),
    Command("review.reject", GROUP, "Reject the detection", ("R",), REVIEW),
    Command("review.next", GROUP, "Next detection to review", ("N", "J"), REVIEW),
    Command("review.previous", GROUP, "Previous detection to review", ("P", "K"), REVIEW),
    Command("review.replay", GROUP, "Play the detection again", ("Shift+R",), REVIEW),
    *_relabel(),
    Command("review.start_earlier", GROUP, f"Move the start {NUDGE_MS} ms earlier", ("[",),
            REVIEW),
    Command("review.start_later", GROUP, f"Move the start {NUDGE_MS} ms later", ("]",), REVIEW),
    Command("review.end_earlier", GROUP, f"Move the end {NUDGE_MS} ms earlier",
            ("Shift+[", "{"), REVIEW),
    Command("review.end_later", GROUP, f"Move the end {NUDGE_MS} ms later", ("Shift+]", "}"),
            REVIEW),
)


def register(keymap: Keymap) -> None:
    """Add the review commands to ``keymap`` (idempotent). The main window should call it
    before applying the user's stored bindings, so rebound review keys are kept."""
    keymap.define_all(REVIEW_COMMANDS)
