"""Every namespace the service names, declared once, and the prefixes serialisations use."""

BJRD = "https://bjrd-kg.example.org/ontology#"
DCTERMS = "http://purl.org/dc/terms/"
FORMATS = "http://www.w3.org/ns/formats/"
OA = "http://www.w3.org/ns/oa#"
ORG = "http://www.w3.org/ns/org#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SCHEMA = "https://schema.org/"
SD = "http://www.w3.org/ns/sparql-service-description#"
SH = "http://www.w3.org/ns/shacl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
VANN = "http://purl.org/vocab/vann/"
VOID = "http://rdfs.org/ns/void#"
XSD = "http://www.w3.org/2001/XMLSchema#"

RDF_TYPE = RDF + "type"

#: The prefixes of Turtle, TriG and RDF/XML output (entity prefixes are added per base IRI).
PREFIXES = {
    "bjrd": BJRD,
    "dcterms": DCTERMS,
    "oa": OA,
    "org": ORG,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "schema": SCHEMA,
    "sh": SH,
    "skos": SKOS,
    "void": VOID,
    "xsd": XSD,
}

#: What CURIEs on HTML pages and the JSON-LD context may abbreviate.
CURIE_PREFIXES = {**PREFIXES, "vann": VANN, "foaf": "http://xmlns.com/foaf/0.1/"}
