"""The demo's people log in as anyone would (ACC-12)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from processor.credentials import keeper
from processor.desk import Desk, login

if TYPE_CHECKING:
    from processor.app import Processor


def cast_login(proc: Processor, name: str) -> Desk:
    """Log a member of the demo's cast in, as `processor login` would, and keep the credential.

    Keeping it in the tester's configuration directory lets the commands the demo prints run as
    written (`--as grete`).
    """
    person = login(proc, name, proc.issued[name])
    user = person.find_user(name)
    if user is not None and user.credential_handed_over:
        # A first administrator replaces the credential the system manager handed over (ACC-13).
        person.users.rotate_credential(name)
        person = login(proc, name, proc.issued[name])
    keeper.keep(proc.settings, name, proc.issued[name])
    return person
