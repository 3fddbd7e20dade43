"""Creating a store: its keys, the GDPA and the system manager, each with a credential (ACC-12).

This use case lives above the application core (`processor.app`): it issues credentials and
reads undertaking dates, which are the access and service layers' business, so the core that
every command opens knows nothing of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processor.app import Processor
from processor.credentials import service as credentials
from processor.domain.store import Store
from processor.domain.users import User
from processor.keys.sealing import records_subject
from processor.services import security_policy
from processor.services.validation import iso_date

if TYPE_CHECKING:
    from processor.config import Settings
    from processor.kernel import clock as clocks


def initialise(
    settings: Settings,
    *,
    gdpa: str,
    system_manager: str,
    simulation: bool = False,
    profile: str = "standard",
    processor_name: str = "processor",
    clock: clocks.Clock | None = None,
    gdpa_undertaking: tuple[str, str] | None = None,
    manager_undertaking: tuple[str, str] | None = None,
    allow_keys_in_data_dir: bool = False,
) -> Processor:
    """Create a store with its keys, the GDPA and the system manager, and return it open.

    Each undertaking is (confidentiality signed, trained) as ISO dates (ACC-1). Without
    one, that person is pending: they can record it themselves and do nothing else.
    """
    undertakings = [
        (iso_date(u[0], "date"), iso_date(u[1], "date")) if u else (None, None)
        for u in (gdpa_undertaking, manager_undertaking)
    ]
    # Everything that can refuse is checked first, so a refused `init` writes nothing.
    Processor.check_init(
        settings,
        profile=profile,
        processor_name=processor_name,
        allow_keys_in_data_dir=allow_keys_in_data_dir,
    )
    proc = Processor(settings, clock, create_master_key=True)
    try:
        proc.check_can_initialise(profile)
        with proc.using_clock():
            store = Store(
                actor="init",
                simulation=simulation,
                profile=profile,
                processor_name=processor_name,
                policy_version=proc.policies.version,
            )
            gdpa_user = User(
                actor="init",
                name=gdpa,
                role="gdpa",
                controller=None,
                confidentiality_signed=undertakings[0][0],
                trained=undertakings[0][1],
            )
            manager = User(
                actor="init",
                name=system_manager,
                role="system-manager",
                controller=None,
                confidentiality_signed=undertakings[1][0],
                trained=undertakings[1][1],
            )
            credentials.issue(proc, gdpa_user, "init")
            credentials.issue(proc, manager, "init")
            # A new store starts with its policy in force, acknowledged by the first two (ACC-15),
            # and the GDPA appointed for the policy's minimum term (ACC-16).
            store.record_security_policy(
                actor="init", version=security_policy.version_in_force(proc), previous=None
            )
            for person in (gdpa_user, manager):
                security_policy.acknowledged_at_creation(proc, person, "init")
            security_policy.appoint_at_init(proc, store, gdpa)
            proc.ledger.ensure_signing_key()
            # Unique per store (a witness tells logs apart by it), fixed from now on.
            store.choose_ledger_origin(actor="init", origin=proc.ledger.key_origin(processor_name))
            # Processor-wide free text (staff reviews, findings) is sealed with this key.
            proc.sealer.new_subjects([records_subject(None)], proc.now())
            proc.commit(store, gdpa_user, manager)
    except BaseException:
        proc.close()
        raise
    return proc
