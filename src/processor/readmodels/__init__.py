"""Read models: projections of the event store, rebuildable at any time."""
