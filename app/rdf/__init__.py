"""The RDF ground floor: namespaces, the media-type table, negotiation, serialisation, terms."""
