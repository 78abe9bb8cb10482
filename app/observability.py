"""(to be written) /ready, /metrics, JSON access logs with request ids."""

from fastapi import FastAPI

from app.config import Settings


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Add the observability middleware and routes to ``app``."""
