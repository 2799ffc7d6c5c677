"""Routes for datasets (to be implemented)."""

from fastapi import APIRouter

router = APIRouter()
