"""HTTP routers. Thin: validate input, call a named query, shape the answer."""
