"""Events, the append-only log that stores them, and its adapters."""
