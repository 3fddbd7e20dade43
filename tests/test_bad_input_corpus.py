"""The bad-input corpus (issue 12, issue 18): every case ends cleanly and changes nothing.

`tests/corpus/cases.toml` lists the cases: a command, its input file, the exit code and the
words the one-line error (or the rejects file) must contain. Each case runs in-process against
one store per backend, and the store's notification log is compared before and after: a bad
input may add a recorded refusal (ACC-8, for exit 1) and nothing else.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cli_helpers import new_tenant, shared_store
from support import BACKENDS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cli_helpers import Cli, Tenant

CORPUS = Path(__file__).parent / "corpus"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "cases.toml").read_text("utf-8"))["case"]
TEN_MB = 10 * 1024 * 1024


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """A store with a controller, a live and an erased contact, a receipt and a 10 MB field."""
    base = tmp_path_factory.mktemp(f"corpus-{request.param}")
    with shared_store(request.param, base) as cli:
        tenant = new_tenant(cli)
        cid = tenant.add("soren@example.dk", "--first-name", "Søren")
        gone = tenant.add("gone@example.dk")
        receipt = base / "receipt.json"
        cli.ok("erase", tenant.ref, "--contact", gone, "--reason", "asked", "--receipt", receipt,
               user=tenant.admin)  # fmt: skip
        big = base / "big.csv"
        big.write_text(f"email,first_name\nbig@example.dk,{'x' * TEN_MB}\n", encoding="utf-8")
        yield {
            "cli": cli,
            "tenant": tenant,
            "values": {
                "ref": tenant.ref,
                "cid": cid,
                "erased": gone,
                "corpus": str(CORPUS),
                "tmp": str(base),
                "pubkey": str(cli.public_key(base / "log.pub")),
                "receipt": str(receipt),
                "big": str(big),
            },
        }


def _log(cli: Cli) -> tuple[int, list[str]]:
    """The notification max id, and the topics of every notification (compared per case)."""
    with cli.open() as proc:
        top = int(proc.store.recorder.max_notification_id() or 0)
        notes = proc.store.recorder.select_notifications(start=max(1, top - 50), limit=100)
        return top, [n.topic for n in notes]


def _user(case: dict[str, Any], tenant: Tenant) -> str | None:
    who = case.get("user", "admin")
    return {"admin": tenant.admin, "none": None}.get(who, who)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input_ends_cleanly_and_changes_nothing(
    world: dict[str, Any], case: dict[str, Any], tmp_path: Path
) -> None:
    """A corpus case exits 1-3 with one `error:` line, or rejects its rows; the store is unchanged."""
    cli: Cli = world["cli"]
    tenant: Tenant = world["tenant"]
    args = [a.format(**world["values"]) for a in case["args"]]
    rejects = tmp_path / "rejects.csv"
    if "rejects" in case:
        args += ["--rejects", str(rejects)]
    before, _ = _log(cli)
    result = cli.run(*args, user=_user(case, tenant), env=case.get("env"))
    after, topics = _log(cli)
    expected = case.get("exit", 0)
    allowed = expected if isinstance(expected, list) else [expected]
    assert result.exit_code in allowed, f"{case['name']}: {result.stdout} {result.stderr}"
    shown = result.stderr + result.stdout
    if result.exit_code != 0:
        assert case["error"] in result.stderr, result.stderr
        added = topics[len(topics) - (after - before) :] if after > before else []
        assert all(t.endswith("AccessDenied") for t in added), added
    elif "rejects" in case:
        assert after == before, "an import of bad rows stored something"
        rows = list(csv.reader(io.StringIO(rejects.read_text("utf-8"))))
        assert rows[0][:2] == ["_line", "_reason"]
        assert len(rows) > 1, "no row was rejected"
        for row in rows[1:]:
            assert re.search(case["rejects"], row[1]), row[:2]
            assert len(row) > 2 or "UTF-8" in row[1], "the rejected row's cells are missing"
        shown += "\n".join(r[1] for r in rows[1:])
    for value in case.get("not_echoed", []):
        assert value not in shown, f"{case['name']} echoes personal data {value!r}"


def test_corpus_covers_every_finding() -> None:
    """The manifest names a case for each kind of bad input issue 12 and issue 18 list."""
    names = " ".join(c["name"] for c in CASES)
    for kind in ("utf16", "latin1", "line-endings", "control", "ten-megabyte", "unicode",
                 "twice", "typo", "9999", "1899", "receipt", "checkpoint", "proof",
                 "existing-file", "processor-now"):  # fmt: skip
        assert kind in names, kind
