"""``kg serve``'s HTTP server: uvicorn with guarded connections (a deadline and a size cap on
every request head, a cap on connections)."""
