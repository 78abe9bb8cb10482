"""The /sparql engine room: where user queries are screened (a real SPARQL tokenizer), negotiated and run
(confined worker processes or a remote store)."""
