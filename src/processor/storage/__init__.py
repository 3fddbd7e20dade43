"""Storage: database engines and locks, the event store, its record and snapshot MACs, SQL types."""
