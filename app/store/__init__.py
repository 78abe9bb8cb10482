"""The graph held, knowing nothing of HTTP: the store spec, the backends (memory, disk, remote),
graph names, snapshots, kept answers, memory hygiene and the query workers' sandbox."""
