"""The graph, built and held, knowing nothing of HTTP: load, infer, validate, the stores and engines, writes."""
