"""Linked-data plumbing: the media-type table, content negotiation, serialisation."""
