"""Liveness: is the service up, and how big is the graph."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import GraphDep

router = APIRouter(tags=["service"])


class Health(BaseModel):
    status: str
    triples: int


@router.get("/health", response_model=Health, summary="Liveness and graph size")
async def read_health(graph: GraphDep) -> Health:
    """The service is up; `triples` counts the distinct triples of the default (union) graph."""
    return Health(status="ok", triples=graph.triples)
