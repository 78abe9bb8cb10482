"""The answer format of a query (app/sparql/run.format_for) is kept per form and Accept header: the
same as negotiating it each time, a 406 never kept, a long Accept never kept."""

import pytest

from app.errors import NotAcceptable
from app.rdf.negotiate import negotiate
from app.sparql import run

ACCEPTS = [None, "", "*/*", "application/sparql-results+json", "text/csv;q=0.5, application/sparql-results+xml",
           "text/turtle", "application/n-triples, */*;q=0.1", "application/ld+json;q=0, text/*"]


@pytest.mark.parametrize("form", ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", ""])
def test_the_kept_format_is_the_negotiated_one(form: str) -> None:
    for accept in ACCEPTS:
        for _ in range(2):  # negotiated, then kept
            try:
                expected = negotiate(accept, run.offered_for(form))
            except NotAcceptable:
                with pytest.raises(NotAcceptable):
                    run.format_for(form, accept)
                continue
            assert run.format_for(form, accept) is expected


def test_a_406_and_a_long_accept_are_not_kept() -> None:
    run._formats.clear()
    for _ in range(2):
        with pytest.raises(NotAcceptable, match="A SELECT query answers"):
            run.format_for("SELECT", "text/turtle")
    long_accept = "application/sparql-results+json, " + ", ".join(f"x/y{i}" for i in range(100))
    assert len(long_accept) > run.FORMAT_KEPT_ACCEPT
    assert run.format_for("SELECT", long_accept).name == "json"
    assert run._formats == {}
    for i in range(run.FORMATS_KEPT + 5):
        run.format_for("SELECT", f"application/sparql-results+json, x/y{i}")
    assert 0 < len(run._formats) <= run.FORMATS_KEPT
