"""Adapters: infrastructure that is no use case. Bulk SQL rows, spreadsheet reading and writing,
Redis rate limits, the Redis connection and worker, the embedded Redis for local runs, and the
secret box that seals stored credentials."""
