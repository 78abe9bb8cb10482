"""The ``kg`` command (also ``python -m app``): serve, validate, stats, export, query.

Exit codes follow pySHACL: 0 success (``validate``: conforms), 1 does not conform,
2 error (unreadable files, bad arguments, a bad query).
"""

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app.config import Settings
from app.errors import DataError, KGError, RequestError
from app.ld.formats import BY_NAME, EXPORT_FORMATS, RESULT_FORMATS
from app.store.engine import KnowledgeGraph, load, validate_loaded
from app.store.export import export_bytes
from app.store.sparql import run_query

EXIT_OK, EXIT_INVALID, EXIT_ERROR = 0, 1, 2


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {k: v for k, v in (("base_iri", args.base_iri), ("engine", args.engine)) if v is not None}
    return Settings(**overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load(settings_from(args))
    report = validate_loaded(loaded)
    if args.json:
        print(json.dumps({"conforms": report.conforms, "results": report.results()}, ensure_ascii=False, indent=2))
    else:
        print(report.text.strip())
    return EXIT_OK if report.conforms else EXIT_INVALID


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
    body = export_bytes(graph, BY_NAME[args.format], inferred=args.inferred)
    if args.output:
        Path(args.output).write_bytes(body)
    else:
        sys.stdout.buffer.write(body)
    return EXIT_OK


def cmd_query(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    graph = KnowledgeGraph.build(settings_from(args), check=False)
    fmt = BY_NAME[args.format] if args.format else None
    result = run_query(graph.backend, text, fmt.media_type if fmt else "text/tab-separated-values, text/turtle")
    sys.stdout.buffer.write(result.body)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    settings = settings_from(args)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kg", description=__doc__.splitlines()[0])
    parser.add_argument("--base-iri", help="base of entity IRIs (KG_BASE_IRI)")
    parser.add_argument("--engine", choices=["oxigraph", "rdflib"], help="query engine (KG_ENGINE)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the graph over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

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
    export.set_defaults(func=cmd_export)

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
    except (DataError, RequestError) as exc:
        print(f"kg: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KGError as exc:
        print(f"kg: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"kg: {exc}", file=sys.stderr)
        return EXIT_ERROR
