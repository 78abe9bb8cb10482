"""The /sparql engine room: where user queries are screened, negotiated and run (worker processes or a remote store)."""
