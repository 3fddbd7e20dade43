"""Where the ledger is kept: its four tables, and the checkpoint log outside the database.

Apart from `processor.link.keeper` so that the modules that read these tables (verification,
witnesses, backups, the contact-write lock) need not import the whole ledger.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from processor.config import config_home
from processor.storage.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from processor.config import Settings

metadata = sa.MetaData()
leaves = sa.Table(
    "ledger_leaves",
    metadata,
    sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("position", sa.BigInteger, nullable=False, unique=True),
)
checkpoints = sa.Table(
    "ledger_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("signed_at", UTCDateTime(), nullable=False),
)
cosignatures = sa.Table(
    "ledger_cosignatures",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("witness", sa.String(200), primary_key=True),
    sa.Column("line", sa.Text, nullable=False),
)
head_lock = sa.Table(
    "ledger_lock",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("writes", sa.BigInteger, nullable=False),
)


CHECKPOINT_LOG_ENV = "PROCESSOR_CHECKPOINT_LOG"


def checkpoint_log_path(settings: Settings) -> Path:
    """Where this store's checkpoints are kept outside the database.

    `--checkpoint-log` / PROCESSOR_CHECKPOINT_LOG, else the person's config folder (beside the
    kept credentials, away from the data directory and from the database a backup restores).
    """
    given = settings.checkpoint_log or os.environ.get(CHECKPOINT_LOG_ENV)
    if given:
        return Path(given)
    return config_home() / "stores" / settings.store_key() / "checkpoints.log"
