"""A validated graph from files: load, infer (the compiled rule plan), validate (SPARQL checks,
pySHACL reference), coverage and lint, the named queries, and the KnowledgeGraph that holds a
built version."""
