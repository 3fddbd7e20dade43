"""Storage: the database engines, the event store and its recorders, SQL types, write locks."""
