"""What stands between user SPARQL and the engines: the lexical guard and the worker sandbox."""
