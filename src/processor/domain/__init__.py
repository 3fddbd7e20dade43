"""The domain: aggregates and their past-tense events; no I/O."""
