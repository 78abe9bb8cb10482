"""The ``kg`` command (also ``python -m app``): serve, validate, stats, export, query, coverage, draft.

Exit codes follow pySHACL: 0 success (``validate``: conforms), 1 does not conform,
2 error (unreadable files, bad arguments, a bad query).
"""

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from app.build import lint
from app.build.graph import KnowledgeGraph, load, open_store, push, validate_loaded
from app.build.load import find_source
from app.config import Settings
from app.errors import KGError
from app.ld.export import build_source_dump, export_bytes
from app.rdf.formats import BY_NAME, EXPORT_FORMATS, RESULT_FORMATS
from app.sparql.dataset import resolve
from app.sparql.run import prepare, run_query
from app.store.spec import StoreSpec
from app.writes import provenance

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in (("base_iri", args.base_iri), ("engine", args.engine), ("store", args.store))
                 if v is not None}
    return Settings(**overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    loaded = load(settings)
    report = validate_loaded(loaded)
    # The data lint (app/build/lint.py) reads the asserted graphs and the article: a problem is exit 1 too.
    problems = lint.lint_files(loaded.ontology + loaded.data, settings.data_dir)
    if args.json:
        print(json.dumps({"conforms": report.conforms, "results": report.results(),
                          "lint": [{"rule": p.rule, "focus": p.subject, "detail": p.detail} for p in problems]},
                         ensure_ascii=False, indent=2))
    else:
        print(report.text.strip())
        print(f"lint: {len(problems)} problem(s)" + "".join(f"\n  {p}" for p in problems))
    return EXIT_OK if report.conforms and not problems else EXIT_INVALID


def cmd_stats(args: argparse.Namespace) -> int:
    graph = KnowledgeGraph.build(settings_from(args), check=False)
    stats = {"triples": graph.triples, **graph.run("stats")[0]}
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key:<18} {value}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    graph = KnowledgeGraph.build(settings_from(args), check=False)
    if args.source is not None:  # the bytes of /export?source= (an unknown id: NotFound, exit 2)
        body = build_source_dump(graph, args.source, BY_NAME[args.format], args.inferred).body
    else:
        body = export_bytes(graph, BY_NAME[args.format], inferred=args.inferred)
    if args.output:
        Path(args.output).write_bytes(body)
    else:
        sys.stdout.buffer.write(body)
    return EXIT_OK


def cmd_coverage(args: argparse.Namespace) -> int:
    from app.build import coverage

    settings = settings_from(args)
    source = find_source(settings.data_dir, args.source)
    graph = KnowledgeGraph.build(settings, check=False)
    result = coverage.measure_source(graph, source)
    print(coverage.report(result))
    return EXIT_OK if result.ok else EXIT_INVALID


def cmd_query(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    graph = KnowledgeGraph.build(settings_from(args), check=False)
    fmt = BY_NAME[args.format] if args.format else None
    prepared = prepare(text, fmt.media_type if fmt else "text/tab-separated-values, text/turtle")
    prepared = resolve(prepared, graph.store.content_graphs(), graph.query_base)  # FROM, as /sparql reads it
    result = run_query(graph.backend, prepared)
    sys.stdout.buffer.write(result.body)
    return EXIT_OK


class Progress:
    """A one-line progress bar on standard error (nothing when it is not a terminal but a summary)."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.done, self.label = max(total, 1), 0, label

    def __call__(self, n: int) -> None:
        self.done += n
        if not sys.stderr.isatty():
            return
        width = 30
        filled = int(width * self.done / self.total)
        print(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} triples",
              end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if sys.stderr.isatty():
            print(file=sys.stderr)


def cmd_load(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    spec = StoreSpec.parse(args.into)
    loaded = load(settings)
    report = validate_loaded(loaded)
    if not report.conforms:
        print(report.text.strip(), file=sys.stderr)
        print("kg: not loaded: the graph does not conform to the shapes", file=sys.stderr)
        return EXIT_INVALID
    store = open_store(spec, settings.base_iri, settings.base_iri + "/", settings.query_timeout_s)
    try:
        # The load is recorded in the store's meta graph after its earlier commits and loads (PROV-O).
        before, sizes_before, started = store.read_version(), store.graph_sizes(), provenance.now()
        sizes_after = {name: len(quads) for name, quads in loaded.graphs.items()}

        def record(version: str) -> list[ox.Triple]:
            return provenance.load_activity(store.meta, before, version, sizes_before, sizes_after, started,
                                            provenance.now())

        progress = Progress(len(loaded.quads), f"loading into {spec}")
        version = push(loaded, store, progress, record)
        progress.close()
    finally:  # a remote store's HTTP connections are released, however the load ends (kg load runs in-process too)
        close = getattr(store.backend, "close", None)
        if close:
            close()
    for name, quads in sorted(loaded.graphs.items()):
        print(f"{len(quads):>8} triples  <{name}>")
    print(f"version {version}")
    print(f"recorded in <{store.meta}>: load, version {before or 'none'} -> {version}")
    return EXIT_OK


def cmd_draft(args: argparse.Namespace) -> int:
    from app.draft import command

    return command.run(args, settings_from(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from app.main import create_app
    from app.server.serving import serve

    settings = settings_from(args)
    host = settings.host if args.host is None else args.host
    port = settings.port if args.port is None else args.port
    settings = settings.model_copy(update={"host": host, "port": port})  # absolute URLs follow where it listens
    serve(create_app(settings), settings, host, port, args.log_level)  # stops at once on SIGTERM, start-up included
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg", description=__doc__.splitlines()[0])
    parser.add_argument("--base-iri", help="base of entity IRIs (KG_BASE_IRI)")
    parser.add_argument("--engine", choices=["oxigraph", "rdflib"], help="query engine (KG_ENGINE)")
    parser.add_argument("--store", help="memory | disk:PATH | sparql:QUERY_URL[;update=URL][;gsp=URL] (KG_STORE)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the graph over HTTP")
    serve.add_argument("--host", help="address to listen on (KG_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (KG_PORT, default 8000)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    load_cmd = sub.add_parser("load", help="validate, then push ontology, data and inferred graphs into a store")
    load_cmd.add_argument("--into", required=True, metavar="STORE",
                          help="memory | disk:PATH | sparql:QUERY_URL[;update=URL][;gsp=URL]")
    load_cmd.set_defaults(func=cmd_load)

    validate = sub.add_parser("validate", help="SHACL-validate the graph (exit 0 conforms, 1 not, 2 error)")
    validate.add_argument("--json", action="store_true", help="print the results as JSON")
    validate.set_defaults(func=cmd_validate)

    stats = sub.add_parser("stats", help="count what the graph holds")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)

    export = sub.add_parser("export", help="write the dataset in an RDF format")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="turtle")
    export.add_argument("--inferred", action="store_true", help="include the inferred triples (graph formats)")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--source", help="only the statements drawn from this source (an id of /api/sources)")
    export.set_defaults(func=cmd_export)

    cover = sub.add_parser("coverage", help="account for every clause of the article (exit 0 all, 1 some not)")
    cover.add_argument("--source", help="the source id (data/sources/ID/); default: the one source")
    cover.set_defaults(func=cmd_coverage)

    draft = sub.add_parser("draft", help="propose an encoding of a new article for review (writes nothing)")
    from app.draft.command import add_arguments
    add_arguments(draft)
    draft.set_defaults(func=cmd_draft)

    query = sub.add_parser("query", help="run a SPARQL query from a file (or - for standard input)")
    query.add_argument("file")
    query.add_argument("--format", choices=[f.name for f in RESULT_FORMATS] + EXPORT_FORMATS)
    query.set_defaults(func=cmd_query)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except SystemExit as exc:  # argparse: --help is 0, a usage error is 2
        return int(exc.code or 0)
    except (KGError, OSError) as exc:
        print(f"kg: {exc}", file=sys.stderr)
        return EXIT_ERROR
