"""Starts and stops the in-process task-queue workers (to be implemented)."""

from __future__ import annotations

from fastapi import FastAPI


def start(app: FastAPI) -> None:
    """Start consuming background tasks for this app."""


def stop(app: FastAPI) -> None:
    """Stop the workers started by :func:`start`."""
