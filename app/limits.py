"""(to be written) request body size and per-client rate limits."""

from fastapi import FastAPI

from app.config import Settings


def install_limits(app: FastAPI, settings: Settings) -> None:
    """Add the limit middleware to ``app``."""
