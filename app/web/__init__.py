"""HTTP plumbing: ETag caching, request limits, observability middleware and metrics, templating."""
