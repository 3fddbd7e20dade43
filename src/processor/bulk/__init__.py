"""Bulk writes that build stored events directly, for the throughput paths (issue 17)."""
