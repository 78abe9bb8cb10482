"""Linked-data views: entity descriptions and pages, JSON-LD, VoID, the service description, dumps, ontology docs."""
