"""The demo's last chapter: a message, the end of a collaboration, the sweep, the certificate.

Told on the demo's simulation clock: nordic-shoes ends its collaboration, takes its data back in
the standard format, and 120 days after the effective date the GDPA's sweep crypto-shreds what is
left and issues a deletion certificate that verifies offline like an erasure receipt.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from processor.demo.cast import cast_login
from processor.kernel.errors import RefusedError

if TYPE_CHECKING:
    from pathlib import Path

    from processor.app import Processor
    from processor.kernel.clock import FixedClock

SHOES, BOOKS = "nordic-shoes", "fjord-books"


def tell_retention(
    proc: Processor, clock: FixedClock, work: Path, story: list[str], out: dict[str, Any]
) -> None:
    """Append the retention chapter to the demo's story (RET-1, RET-2, RET-3, RET-7, SUBJ-7)."""
    anna, mia, bo = (
        cast_login(proc, "anna"),
        cast_login(proc, "mia"),
        cast_login(proc, "bo"),
    )
    grete = cast_login(proc, "grete")
    members = anna.contacts.list_members(SHOES, "newsletter", limit=1)["members"]
    sent = mia.messages.record(
        SHOES, members[0]["contact_id"], "email", "Spring sale", "Hi, our spring sale starts now."
    )
    reader = bo.contacts.list_members(BOOKS, "readers", limit=1)["members"][0]["contact_id"]
    try:
        bo.messages.record(BOOKS, reader, "sms", body="New books in store")
    except RefusedError as exc:
        story.append(
            f"recorded a sent e-mail (content sealed with its own key, {sent['message_id'][:8]}…); "
            f"an SMS from the freemium account was refused: {exc}"
        )
    effective = (clock.now() + timedelta(days=1)).date()
    ended = anna.lifecycle.terminate(SHOES, effective.isoformat())
    clock.advance(timedelta(days=2))
    try:
        mia.contacts.add(SHOES, "newsletter", "late@example.dk", "email:web-form")
    except RefusedError:
        story.append(
            f"{SHOES} ended its collaboration effective {effective} without other instruction: "
            f"its data is due {ended['data']['due_at'][:10]} (RET-1, 120 days); new contacts "
            "are refused from the effective date, export and erasure still work"
        )
    returned = anna.returns.write(SHOES, work / f"{SHOES}-return")
    story.append(
        f"{SHOES} took its data back in the standard format: "
        + ", ".join(f"{n} {name}" for name, n in returned["counts"].items())
        + " as JSON Lines and CSV with a SHA-256 manifest (RET-2)"
    )
    due_day = effective + timedelta(days=120)
    clock.set(clock.now().replace(year=due_day.year, month=due_day.month, day=due_day.day))
    swept = grete.retention.sweep()
    again = grete.retention.sweep()
    certificate = grete.retention.certificate(SHOES)
    path = work / f"deletion-certificate-{SHOES}.json"
    path.write_text(json.dumps(certificate, indent=2) + "\n", encoding="utf-8")
    details = certificate["metadata"]["details"]
    story.append(
        f"on {due_day} the GDPA's sweep crypto-shredded {swept['contacts_erased']} contacts and "
        f"{swept['message_contents_shredded']} sent message(s) of {SHOES} in batches; a second "
        + ("sweep had nothing to do (idempotent)" if again["nothing_due"] else "sweep ran again")
    )
    public_key = work / "ledger.pub"
    command = f"processor receipts verify {path} --public-key {public_key}"
    story.append(
        f"deletion certificate (RET-3): {details['subjects_made_unreadable']['total']} subjects "
        f"and {details['events_made_unreadable']} events made unreadable under "
        f"{details['rule']}, ledger leaf {certificate['leaf_index']}; verify offline: {command}"
    )
    out.update({"certificate": str(path), "verify_certificate": command})
