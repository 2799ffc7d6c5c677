"""Routes for annotation_sets (to be implemented)."""

from fastapi import APIRouter

router = APIRouter()
