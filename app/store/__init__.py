"""The graph: loading the files, inference, validation, and the query engines."""
