"""Package data: icons, stylesheets, desktop entry and demo audio."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Return the absolute path of a shipped resource file."""
    return RESOURCES_DIR.joinpath(*parts)
