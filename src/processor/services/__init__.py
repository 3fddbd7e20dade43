"""Use cases: what a session can do, authorised and recorded."""
