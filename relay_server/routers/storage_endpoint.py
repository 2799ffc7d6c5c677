"""Routes for storage_endpoint (to be implemented)."""

from fastapi import APIRouter

router = APIRouter()
