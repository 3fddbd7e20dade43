"""Personal credentials (ACC-12): issued once, stored only as a digest, kept by the person.

`secrets` makes and checks credentials (pure), `service` issues, rotates and authenticates
them against the users' events, and `keeper` keeps a logged-in credential in the person's
own configuration directory.
"""
