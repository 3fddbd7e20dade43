"""Benchmarks: the processor's throughput and latency as ratios against baselines.

Machines are shared and noisy, so every figure that matters is a ratio against a baseline
measured in the same run on the same backend: plain `eventsourcing` (the library the event
store is built on) and the raw storage limit (one big insert, or `COPY` on PostgreSQL).
Run `python -m bench --help`.
"""
