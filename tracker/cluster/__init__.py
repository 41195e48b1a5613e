"""Several tracker nodes on one PostgreSQL log: decisions in the writer's turn, following the
log, and the one node that runs the scheduler's jobs."""
