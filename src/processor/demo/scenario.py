"""The main job: a fresh, realistic scenario on a simulation store, told as a summary.

Two controllers on the two agreement editions, a few thousand imported contacts, consents,
unsubscribes, a rectification, a restriction, an objection, exports, a refused attempt, an
erasure with its receipt, and a full ledger verification at the end.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from processor.app import Processor
from processor.config import Settings
from processor.demo.breach import tell_breach
from processor.demo.cast import cast_login
from processor.demo.data import people, write_csv
from processor.demo.retention import tell_retention
from processor.desk import Desk
from processor.kernel.clock import FixedClock
from processor.kernel.errors import AccessDeniedError, RefusedError
from processor.readmodels import tables as t
from processor.services.setup import initialise
from processor.verifications import record_check
from subprocessors import SubProcessorDetails

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


# The demo's GDPA and system manager signed and were trained before the story starts (ACC-1).
UNDERTAKING = ("2025-11-03", "2025-11-10")


def run_demo(settings: Settings, contacts: int = 3000) -> dict[str, Any]:  # noqa: PLR0915 - a story told in order
    """Build the scenario in `settings`' store and return what happened."""
    clock = FixedClock(START)
    work = settings.data_dir / "demo-files"
    proc = initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
        simulation=True,
        clock=clock,
        processor_name="demo-processor",
    )
    work.mkdir(parents=True, exist_ok=True)
    story: list[str] = []
    out: dict[str, Any] = {"data_dir": str(settings.data_dir), "simulation": True, "story": story}
    try:
        sam = cast_login(proc, "sam")
        sam.controllers.register(
            "nordic-shoes", "Nordic Shoes ApS", "DK", "paying", "scc", cvr="12345678", admin="anna"
        )
        sam.controllers.register(
            "fjord-books", "Fjord Books", "DK", "freemium", "dpa-2018", admin="bo"
        )
        # Nothing is processed for a controller before its signed agreement is kept (INSTR-5).
        signed_on = clock.now().date().isoformat()
        sam.agreements.record(
            "nordic-shoes", "scc", signed_on,
            b"Standard contractual clauses, Nordic Shoes ApS", "Sam S", "Anna A",
        )  # fmt: skip
        sam.agreements.record(
            "fjord-books", "dpa-2018", signed_on,
            b"Databehandleraftale, Fjord Books", "Sam S", "Bo B",
        )  # fmt: skip
        story.append(
            "registered nordic-shoes (paying, current SCC edition) and fjord-books "
            "(freemium, 2018 edition), each with its first administrator and its signed "
            "agreement on record"
        )
        anna, bo = cast_login(proc, "anna"), cast_login(proc, "bo")
        anna.users.add("mia", "marketing", controller="nordic-shoes")
        anna.users.add("ben", "bookkeeper", controller="nordic-shoes")
        anna.controllers.instruct(
            "nordic-shoes",
            "general",
            "Send our newsletters to subscribed contacts; keep consent evidence.",
        )
        clock.advance(timedelta(days=1))

        shoes_csv = work / "nordic-shoes.csv"
        bad = ["not-an-email,+45 1,Bad,Row,,,,,,,,,", "ida@example.dk,,Ida,,,,,,,1999-02-31,,,"]
        write_csv(shoes_csv, people(contacts, seed=1), extra_lines=bad)
        rejects = io.StringIO()
        with shoes_csv.open("rb") as raw:
            imported = anna.imports.import_csv(
                "nordic-shoes",
                raw,
                "newsletter",
                "double-opt-in",
                rejects=rejects,
                source="import:nordic-shoes.csv",
            )
        (work / "nordic-shoes.rejects.csv").write_text(rejects.getvalue(), encoding="utf-8")
        with shoes_csv.open("rb") as raw:
            again = anna.imports.import_csv("nordic-shoes", raw, "newsletter", "double-opt-in")
        story.append(
            f"imported {imported.added} contacts into nordic-shoes/newsletter, "
            f"{imported.rejected} rows rejected with reasons; re-importing the same file "
            f"added {again.added}"
        )
        books_csv = work / "fjord-books.csv"
        write_csv(books_csv, people(250, seed=2, domain="example.org"))
        with books_csv.open("rb") as raw:
            books = bo.imports.import_csv("fjord-books", raw, "readers", "single-opt-in")
        story.append(
            f"fjord-books (freemium) imported {books.added} of 250: the account holds "
            f"fewer than 200 contacts, {books.rejected} refused (SUBJ-7)"
        )
        clock.advance(timedelta(days=3))

        mia = cast_login(proc, "mia")
        first = next(people(1, seed=1))
        added = mia.contacts.add(
            "nordic-shoes", "vip", first["email"], "email:web-form:checkbox on order page"
        )
        story.append(
            "an existing e-mail added to the 'vip' list joined the existing contact "
            f"(created={added['created']}) with its own consent record (SUBJ-2)"
        )
        sample = list(people(12, seed=1))
        ids = [anna.contacts.id_by_email("nordic-shoes", p["email"]) or "" for p in sample]
        for cid in ids[1:4]:
            mia.contacts.unsubscribe("nordic-shoes", cid, "newsletter")
        anna.contacts.update("nordic-shoes", ids[4], {"last_name": "Holm-Jensen", "city": "Vejle"})
        anna.contacts.set_state("restrict", "nordic-shoes", ids[5], "accuracy contested")
        anna.contacts.set_state("object", "nordic-shoes", ids[6], "objects to profiling")
        members = anna.contacts.list_members("nordic-shoes", "newsletter", limit=0)
        story.append(
            f"3 unsubscribed (their data stays, SUBJ-3), 1 rectified, 1 restricted, "
            f"1 objected: the newsletter now has {members['count']} current members"
        )
        try:
            cast_login(proc, "ben").contacts.show("nordic-shoes", ids[7])
        except AccessDeniedError as exc:
            story.append(
                f"the bookkeeper tried to read a contact and was refused and logged: {exc}"
            )
        try:
            bo.contacts.show("nordic-shoes", ids[7])
        except AccessDeniedError:
            story.append("fjord-books' administrator was refused nordic-shoes' data (ACC-9)")
        story.append(_support_case(proc, sam, anna, ids[9], clock))
        clock.advance(timedelta(days=2))

        one = work / "subject-access-export.json"
        with one.open("w", encoding="utf-8") as handle:
            anna.exports.export("nordic-shoes", handle, contact=ids[4])
        everything = work / "nordic-shoes-all.csv"
        with everything.open("w", encoding="utf-8", newline="") as handle:
            summary = anna.exports.export(
                "nordic-shoes", handle, everything=True, data_format="csv"
            )
        story.append(
            f"exported one subject (JSON) and all {summary['contacts']} contacts (CSV, "
            f"sha256 {summary['sha256'][:12]}…) for the controller (SUBJ-4, SUBJ-6)"
        )

        receipt_path = work / "erasure-receipt.json"
        receipt = anna.erasure.erase(
            "nordic-shoes",
            "data subject request (Art. 17)",
            contact=ids[8],
            receipt_path=receipt_path,
        )
        public_key = work / "ledger.pub"
        public_key.write_text(proc.ledger.vkey() + "\n", encoding="utf-8")
        after = anna.contacts.show("nordic-shoes", ids[8])
        story.append(
            f"erased one subject by destroying its key; reading it now gives "
            f"{after['fields']!r}; receipt at leaf {receipt['leaf_index']}"
        )
        try:
            mia.contacts.add(
                "nordic-shoes",
                "vip",
                "x@example.dk",
                "email:form",
                fields={"health_condition": "asthma"},
            )
        except RefusedError as exc:
            story.append(f"a sensitive custom field was refused without an instruction: {exc}")

        # Sub-processors (SUB-2, SUB-3, SUB-6, SUBJ-5): a change with one objecting controller.
        grete = cast_login(proc, "grete")
        pending = len(grete.subprocessors.outbox()["pending"])
        story.append(
            f"the rectification, restriction and erasure queued {pending} recipient notices "
            "for nordic-shoes' sub-processors, by contact id only (SUBJ-5)"
        )
        nordmail = SubProcessorDetails(
            name="Nordmail ApS",
            address="Havnegade 1, 5000 Odense C",
            country="DK",
            activities=("email",),
            basis="eea",
            registration="CVR 40000001",
            agreement_ref="SPA-2026-07",
            agreement_date=clock.now().date(),
            beneficiary_clause=True,
        )
        proposal = grete.subprocessors.propose(nordmail)
        notices = "; ".join(
            f"{n['controller']} from {n['engage_not_before']} ({n['period']})"
            for n in proposal["notices"]
        )
        story.append(f"proposed Nordmail ApS for e-mail, written notice: {notices} (SUB-2)")
        # Engagement needs the agreement's text kept, not only the reference proposed (SUB-5).
        kept = grete.subprocessors.record_agreement(
            "Nordmail ApS",
            nordmail.agreement_ref,
            agreement_date=nordmail.agreement_date,
            beneficiary_clause=True,
            text=b"Sub-processor agreement SPA-2026-07, Nordmail ApS: SCC 7.6 included",
        )["agreement"]
        story.append(
            f"kept the agreement {kept['ref']} with Nordmail ApS, text SHA-256 "
            f"{kept['text_sha256'][:12]}..., so a copy can be produced on request (SUB-5)"
        )
        bo.subprocessors.object_to("Nordmail ApS", "fjord-books", "we keep e-mail with Ubivox")
        try:
            grete.subprocessors.engage("Nordmail ApS")
        except RefusedError as exc:
            story.append(f"fjord-books objected (SUB-3); engaging at once was refused: {exc}")
        clock.advance(timedelta(days=31))
        engaged = grete.subprocessors.engage("Nordmail ApS")
        story.append(
            f"31 days later Nordmail ApS was engaged for {', '.join(engaged['for_controllers'])}, "
            f"never for {', '.join(engaged['blocked_by_objection'])}"
        )
        findings = grete.subprocessors.check()["findings"]
        shield = sorted(
            {f["subprocessor"] for f in findings if f["rule"] == "TransferBasisMustBeInForce"}
        )
        blocking = sum(1 for f in findings if f["blocking"])
        story.append(
            f"subprocessors check: {len(findings)} findings ({blocking} blocking); EU-US Privacy "
            f"Shield (invalid since 2020-07-16) flagged for {', '.join(shield)} (SUB-6)"
        )
        out["subprocessors"] = {
            "findings": len(findings),
            "blocking": blocking,
            "privacy_shield_flagged": shield,
            "outbox_pending": pending,
        }

        tell_breach(proc, clock, work, story, out)
        tell_retention(proc, clock, work, story, out)
        report = proc.ledger.verify()
        record_check(proc, report)  # `processor status` shows the demo's own verification
        head = proc.ledger.head()
        story.append(
            f"ledger verified: {report.records_checked} events, "
            f"{report.checkpoints_checked} signed checkpoints, root {head['root'][:16]}…"
        )
        out.update(
            {
                "controllers": ["nordic-shoes", "fjord-books"],
                "imported": imported.as_dict(),
                "ledger": {"ok": report.ok, "events": report.records_checked, "root": head["root"]},
                "receipt": str(receipt_path),
                "public_key": str(public_key),
                "verify_receipt": (
                    f"processor receipts verify {receipt_path} --public-key {public_key}"
                ),
            }
        )
        out["report"] = str(_audit_report(proc, work, story))
        (work / "summary.json").write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    finally:
        proc.close()
    return out


def _audit_report(proc: Processor, work: Path, story: list[str]) -> Path:
    """The GDPA's audit report of the whole story, as one self-contained HTML file (AUD-1)."""
    from processor.audit import render_html
    from processor.audit.report import build_report

    model = build_report(cast_login(proc, "grete").session)
    path = work / "audit-report.html"
    path.write_text(render_html.render(model), encoding="utf-8")
    story.append(
        f"the GDPA's audit report (objectives A-I, {len(model['deviations'])} deviations "
        f"flagged, ledger verified) was written to {path}"
    )
    return path


def _support_case(
    proc: Processor, sam: Desk, anna: Desk, contact_id: str, clock: FixedClock
) -> str:
    """A support ticket: pseudonymised view, request, approval, one reveal, one refused attempt."""
    sam.users.add("sofie", "support", confidentiality_signed="2025-12-01", trained="2025-12-03")
    sofie = cast_login(proc, "sofie")
    # Support looks only at a case the controller opened, naming it and why (ACC-4, ACC-6).
    anna.controllers.instruct(
        "nordic-shoes",
        "support-request",
        "please look at ticket 1042: our customers say mails bounce",
        {"case": "ticket 1042"},
    )
    view = sofie.access.support_view(
        "nordic-shoes", case="ticket 1042", reason="which lists the bouncing contacts are on"
    )
    pseudonym = _pseudonym_of(proc, contact_id)  # the controller's ticket names the contact
    grant = sofie.access.request(
        "nordic-shoes", "ticket 1042: customer says mails bounce", [pseudonym], hours=2
    )
    anna.access.decide(grant["grant"], approve=True)
    sofie.access.reveal(grant["grant"], pseudonym)
    clock.advance(timedelta(hours=3))
    try:
        sofie.access.reveal(grant["grant"], pseudonym)
        refused = "not refused (unexpected)"
    except AccessDeniedError as exc:
        refused = f"refused after expiry ({exc.rule})"
    return (
        f"support saw nordic-shoes' {view['count']} contacts only by pseudonym, asked for "
        f"access to {pseudonym} with a reason, nordic-shoes approved a 2-hour grant, "
        f"one reveal was logged first (ACC-6); a second try 3 hours later was {refused}"
    )


def _pseudonym_of(proc: Processor, contact_id: str) -> str:
    """The pseudonym support staff see for a contact (from the support read model)."""
    with proc.engines.readmodels.connect() as conn:
        return str(
            conn.execute(
                sa.select(t.contacts.c.pseudonym).where(t.contacts.c.contact_id == contact_id)
            ).scalar_one()
        )


def default_demo_dir() -> Path:
    """A fresh directory for the demo in the current directory."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S")
    return Path(f"processor-demo-{stamp}")
