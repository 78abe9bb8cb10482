# bjrd-kg: the knowledge-graph service, served by uvicorn from the embedded store.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /srv/bjrd-kg

# Dependency layer first: it changes far less often than the code and the data.
COPY pyproject.toml README.md ./
RUN mkdir -p app && touch app/__init__.py \
    && pip install . \
    && pip uninstall -y bjrd-kg \
    && rm -rf app

COPY app/ app/
COPY ontology/ ontology/
COPY data/ data/
COPY queries/ queries/
# Editable, so that ontology/, data/ and queries/ are found beside the app package.
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /srv/bjrd-kg kg \
    && chown -R kg /srv/bjrd-kg

USER kg
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["kg", "serve", "--host", "0.0.0.0", "--port", "8000"]
