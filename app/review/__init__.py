"""The review desk behind /curate: a draft requested over HTTP, and a reviewed draft turned into
the statements to publish."""
