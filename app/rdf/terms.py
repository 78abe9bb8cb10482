"""One representation of RDF terms for both engines (pyoxigraph's), and their JSON values."""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from app.rdf.namespaces import XSD

if TYPE_CHECKING:
    import rdflib

INTEGER_TYPES = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                    "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
FLOAT_TYPES = {XSD + "double", XSD + "float", XSD + "decimal"}

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def from_rdflib(term: "rdflib.term.Node") -> Term:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD + "string")))
    raise TypeError(f"unexpected term {term!r}")


def triple_from_rdflib(triple: "tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]") -> ox.Triple:
    """An rdflib triple as a pyoxigraph one (raises TypeError for a literal subject or a non-IRI predicate)."""
    subject, predicate, obj = (from_rdflib(t) for t in triple)
    if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
        raise TypeError(f"not an RDF triple: {triple!r}")
    return ox.Triple(subject, predicate, obj)


def to_rdflib(term: Term) -> "rdflib.term.Identifier":
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def to_python(term: Term | None) -> Any:
    """The JSON value of a term: IRIs and strings as str, numbers as int/float, booleans as bool."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value if term.datatype else ""
        if datatype in INTEGER_TYPES:
            return int(term.value)
        if datatype in FLOAT_TYPES:
            number = Decimal(term.value)
            whole = datatype == XSD + "decimal" and number == number.to_integral_value()
            return int(number) if whole else float(number)
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
        return term.value
    return term.value
