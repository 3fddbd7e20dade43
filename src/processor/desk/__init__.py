"""The desk: the use cases a signed-in person works with, one place above the services."""

from processor.desk.desk import Desk, login

__all__ = ["Desk", "login"]
