"""The desk: the use cases a signed-in person works with, one place above the services."""
