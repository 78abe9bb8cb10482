"""One write, whole or not at all: the request's terms and isolation, stage, delta, infer and
revalidate near the change, scratch copies, commit, provenance."""
