"""Over HTTP too, a key put back after its subject's erasure opens nothing (RET-5, AUD-4, SUBJ-4).

The attack of issue 23 section 3 (save the key row, erase, insert the row again, delete the
tombstone) answered with a 500 integrity-failure problem naming `processor doctor`, never with
the erased contact.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from processor.keys.keystore import shredded_subjects, subject_keys

EMAIL = "http.resurrected@example.com"


def _put_back_after_erasure(api: Any) -> str:
    cid = api.add("alice", EMAIL)
    with api.proc.keys.engine.connect() as conn:
        row = conn.execute(sa.select(subject_keys).where(subject_keys.c.subject_id == cid)).one()
    r = api.as_("alice", "POST", "/v1/controllers/acme/erase",
                json={"contact": cid, "reason": "subject asked"})  # fmt: skip
    assert r.status_code == 200, r.text
    with api.proc.keys.engine.begin() as conn:
        conn.execute(subject_keys.insert().values(**row._asdict()))
        conn.execute(shredded_subjects.delete().where(shredded_subjects.c.subject_id == cid))
    return cid


def test_show_and_export_answer_an_integrity_failure_naming_doctor__RET_5__AUD_4__SUBJ_4(api):
    """Show and export of the contact whose key came back are 500 integrity-failure problems."""
    cid = _put_back_after_erasure(api)
    for url, params in (
        (f"/v1/controllers/acme/contacts/{cid}", {}),
        ("/v1/controllers/acme/export", {"contact": cid}),
    ):
        r = api.as_("alice", "GET", url, params=params)
        assert r.status_code == 500, (url, r.text)
        problem = r.json()
        assert problem["type"].endswith("integrity-failure"), problem
        assert "processor doctor" in problem["detail"]
        assert problem["exit_code"] == 3
        assert EMAIL not in r.text
