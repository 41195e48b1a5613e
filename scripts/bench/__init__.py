"""Helpers for scripts/bench.py, the tracker benchmark.

Modules:
    server    start, stop and measure a real ``tracker serve`` process
    api       a keep-alive HTTP client and the manager/project/worker setup
    wrk       run wrk (pinned to its own core) with the Lua scripts in lua/
    measures  the six measurements, one function each
    report    machine facts, medians, the table and the JSON file
"""
