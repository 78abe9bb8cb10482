# bjrd-kg: the knowledge-graph service, served by uvicorn from the embedded store.
# It installs and starts the service exactly as the README's first command does (a venv, the
# project with its runtime dependencies and no extras, `kg serve`); tests/test_install.py checks
# that the two stay in step.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KG_HOST=0.0.0.0 \
    KG_PORT=8000

WORKDIR /srv/bjrd-kg

COPY pyproject.toml README.md ./
COPY app/ app/
COPY ontology/ ontology/
COPY data/ data/
COPY queries/ queries/
# Editable, as in the README, so that ontology/, data/ and queries/ are found beside the app package.
RUN python3 -m venv .venv && .venv/bin/pip install -e .
RUN useradd --system --uid 10001 --home-dir /srv/bjrd-kg kg && chown -R kg /srv/bjrd-kg

USER kg
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD [".venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD [".venv/bin/kg", "serve"]
