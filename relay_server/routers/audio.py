"""Routes for audio (to be implemented)."""

from fastapi import APIRouter

router = APIRouter()
