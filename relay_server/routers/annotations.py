"""Routes for annotations (to be implemented)."""

from fastapi import APIRouter

router = APIRouter()
