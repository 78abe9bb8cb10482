"""Settings: environment variables prefixed ``KG_`` (and the matching CLI options).

Nothing else in the package reads ``os.environ``.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent

#: The base the Turtle files in data/ are written against; rewritten to ``base_iri`` at load.
CANONICAL_BASE = "https://bjrd-kg.example.org"


class Settings(BaseSettings):
    """Service configuration. Every field is ``KG_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="KG_", frozen=True)

    base_iri: str = Field(
        CANONICAL_BASE,
        description="Base of entity IRIs: {base}/id/{type}/{slug}. Also the base relative IRIs "
        "in SPARQL queries resolve against.",
    )
    engine: Literal["oxigraph", "rdflib"] = Field(
        "oxigraph", description="Query engine: embedded Oxigraph (default) or rdflib (reference)."
    )
    store: str = Field("memory", description="Where the graph lives: memory (embedded, default).")
    query_timeout_s: float = Field(10.0, gt=0, description="Deadline of one SPARQL query, seconds.")
    max_query_bytes: int = Field(64 * 1024, gt=0, description="Largest SPARQL query text accepted (413 above).")
    query_memory_mb: int = Field(
        1024, gt=0, description="Memory one query may use in its worker process, MB, above the dataset the worker "
        "holds (RLIMIT_AS); a query that needs more gets 503 and the worker is replaced."
    )
    update_timeout_s: float = Field(
        30.0, gt=0, description="Deadline of one write's update or body parse, seconds (it runs in a separate "
        "process, stopped at the deadline with 503)."
    )
    max_literal_bytes: int = Field(
        64 * 1024, gt=0, description="Longest literal (UTF-8 bytes) a write may put into the graph; a longer one is "
        "refused with 413 naming the triple, and nothing is written."
    )
    max_write_entailments: int = Field(
        100_000, gt=0, description="Most entailed triples one write may add or remove (worked out in a separate "
        "process under KG_UPDATE_TIMEOUT_S and KG_QUERY_MEMORY_MB); above: 422, and nothing is written."
    )
    query_workers: int = Field(
        0, ge=0, description="Query worker processes; 0 means one per CPU core, plus one (a worker waits while "
        "its answer is handed over: the extra one adds about 30 % to query throughput on 2 cores)."
    )
    worker_recycle_mb: int = Field(
        64, ge=0, description="A query worker that has made this many MB its own since it was forked (pages of "
        "the shared dataset copied by its reads, its own allocations) is replaced by a fresh fork after its "
        "answer, so that the workers keep sharing one copy of the dataset; 0 never replaces one."
    )
    query_queue: int = Field(
        -1, ge=-1, description="Queries that may wait for a busy worker before 503; -1 means 4 per worker."
    )
    ontology_dir: Path = ROOT / "ontology"
    data_dir: Path = ROOT / "data"
    queries_dir: Path = ROOT / "queries"
    write_token: str | None = Field(
        None, description="Bearer token that enables /update and the Graph Store Protocol; unset: read-only."
    )
    max_body_bytes: int = Field(8 * 1024 * 1024, gt=0, description="Largest request body accepted (413 above).")
    max_result_rows: int = Field(
        100_000, gt=0,
        description="Most rows (or triples) one /sparql answer carries; longer answers are truncated, and say so.",
    )
    rate_limit_rps: float = Field(
        0.0, ge=0, description="Requests per second per client address; 0 turns the limit off."
    )
    rate_limit_burst: int = Field(100, gt=0, description="Requests a client may send at once above the steady rate.")
    answer_store_mb: int = Field(
        64, ge=0, description="MB of stored answers kept per graph version (app/web/caching.py); 0 turns stored "
        "answers off: every read runs the route, with the same ETags, Vary and 304s.",
    )
    store_version_check_s: float = Field(
        5.0, ge=0, description="With KG_STORE=sparql:…, how often (at most, seconds) /ready asks the store for its "
        "recorded version; a new one (the store was reloaded) is then served, so caches refresh.",
    )
    sparql_concurrency: int = Field(
        4, ge=0, description="SPARQL queries one client may have running or waiting for a worker at once (429 "
        "above); 0 turns the limit off."
    )
    sparql_query_seconds: float = Field(
        60.0, ge=0, description="Seconds of query-worker time one client may use a minute (a balance refilled "
        "continuously; 429 with Retry-After while it is spent); stored and reused answers cost nothing; 0: off."
    )
    sparql_client_workers: int = Field(
        -1, ge=-1, description="Query workers one client's queries may hold at once (more wait their turn); -1 means "
        "the number of workers less one (at least 1), so another client always finds one; 0: no cap."
    )
    public_url: str | None = Field(
        None, description="The service's public base URL, for absolute URLs in answers (service description, VoID, "
        "JSON-LD contexts, links); default: the address `kg serve` listens on (http://KG_HOST:KG_PORT; a wildcard "
        "host as the loopback address). The Host header is never used.",
    )
    metrics_token: str | None = Field(
        None, description="Bearer token /metrics requires; unset: /metrics is open (keep it on a private network)."
    )
    validate_on_start: bool = Field(True, description="SHACL-validate at start-up and refuse to start on violations.")
    shacl_engine: Literal["auto", "pyshacl", "sparql"] = Field(
        "auto", description="How the service validates: pySHACL (the reference), the SPARQL checks of "
        "queries/shapes/ run in the store (same results, far faster), or auto: pySHACL below "
        "shacl_sparql_above triples. With auto or sparql, a write to a graph known to conform is "
        "validated by the SPARQL checks for the focus nodes it can concern only, at any size.",
    )
    shacl_sparql_above: int = Field(100_000, ge=0, description="With shacl_engine=auto, graphs of at least this many "
                                    "triples are validated by the SPARQL checks.")
    header_timeout_s: float = Field(
        10.0, gt=0, description="`kg serve`: seconds a client has to send a whole request head, from the moment the "
        "connection opens or its previous answer ends; later: 408 (or, if nothing was sent, the connection closed).",
    )
    send_timeout_s: float = Field(
        30.0, gt=0, description="`kg serve`: while an answer waits for its client, seconds the client has to read some "
        "of it (about 1 MiB); later the connection is aborted and the answer dropped (a stalled reader holds no "
        "memory past it).",
    )
    max_connections: int = Field(
        512, ge=0, description="`kg serve`: open connections at most; the next is answered 503 at once and closed "
        "(0: no cap; keep it below the open-file limit, ulimit -n).",
    )
    host: str = Field("127.0.0.1", description="Address `kg serve` listens on (0.0.0.0: every interface).")
    port: int = Field(8000, ge=0, le=65535, description="Port `kg serve` listens on.")

    @field_validator("base_iri")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_iri must be an absolute http(s) IRI")
        return value.rstrip("/")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("public_url must be an absolute http(s) URL")
        return value.rstrip("/")

    @property
    def public_base(self) -> str:
        """The base of absolute URLs in answers: ``public_url``, else the address ``kg serve`` listens on
        (``http://{host}:{port}``; a wildcard host, 0.0.0.0 or ::, as the loopback address); never the Host
        header, and never the base IRI (a name, not necessarily served here)."""
        if self.public_url:
            return self.public_url
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
