"""Read-model tables: current state as projections of the event store.

They hold no plaintext personal data: contacts are found through blind indexes, and every
personal value stays sealed in the events. A read model can always be dropped and rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa

from processor.storage.sqltypes import UTCDateTime

metadata = sa.MetaData()

tracking = sa.Table(
    "rm_tracking",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

users = sa.Table(
    "rm_users",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.String(36), nullable=False, unique=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("controller", sa.String(64), nullable=True, index=True),
    sa.Column("confidentiality_signed", sa.String(10), nullable=True),
    sa.Column("trained", sa.String(10), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("locked", sa.Boolean, nullable=False, default=False),
    sa.Column("last_review", UTCDateTime(), nullable=False),
)

controllers = sa.Table(
    "rm_controllers",
    metadata,
    sa.Column("ref", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("account", sa.String(16), nullable=False),
    sa.Column("agreement", sa.String(16), nullable=False),
    sa.Column("cvr", sa.String(32), nullable=True),
    sa.Column("registered_at", UTCDateTime(), nullable=False),
    sa.Column("registered_by", sa.String(128), nullable=False),
)

instructions = sa.Table(
    "rm_instructions",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("controller", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("given_at", UTCDateTime(), nullable=False),
    sa.Column("given_by", sa.String(128), nullable=False),
)

contacts = sa.Table(
    "rm_contacts",
    metadata,
    sa.Column("contact_id", sa.String(36), primary_key=True),
    sa.Column("controller", sa.String(64), nullable=False),
    sa.Column("email_index", sa.String(32), nullable=True),
    sa.Column("phone_index", sa.String(32), nullable=True),
    sa.Column("pseudonym", sa.String(24), nullable=False),
    sa.Column("restricted", sa.Boolean, nullable=False),
    sa.Column("objected", sa.Boolean, nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.Column("erased_at", UTCDateTime(), nullable=True),
    sa.Index("ix_rm_contacts_email", "controller", "email_index"),
    sa.Index("ix_rm_contacts_phone", "controller", "phone_index"),
    sa.Index("ix_rm_contacts_pseudonym", "controller", "pseudonym"),
)

memberships = sa.Table(
    "rm_memberships",
    metadata,
    sa.Column("contact_id", sa.String(36), primary_key=True),
    sa.Column("list_name", sa.String(128), primary_key=True),
    sa.Column("controller", sa.String(64), nullable=False),
    sa.Column("subscribed", sa.Boolean, nullable=False),
    sa.Column("since", UTCDateTime(), nullable=False),
    sa.Column("unsubscribed_at", UTCDateTime(), nullable=True),
    sa.Index("ix_rm_memberships_list", "controller", "list_name"),
)

consents = sa.Table(
    "rm_consents",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("contact_id", sa.String(36), nullable=False, index=True),
    sa.Column("list_name", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("method", sa.String(64), nullable=False),
    sa.Column("given_at", sa.String(40), nullable=False),
)

denials = sa.Table(
    "rm_denials",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False, index=True),
    sa.Column("command", sa.String(64), nullable=False),
    sa.Column("controller", sa.String(64), nullable=True),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

access_log = sa.Table(
    "rm_access_log",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False, index=True),
    sa.Column("controller", sa.String(64), nullable=True, index=True),
    sa.Column("grant_id", sa.String(36), nullable=True),
    sa.Column("contact", sa.String(36), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)

# -- retention and messages (RET-1 .. RET-7, SUBJ-7; handlers in retention_handlers.py) ---------

messages = sa.Table(
    "rm_messages",
    metadata,
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("controller", sa.String(64), nullable=False),
    sa.Column("number", sa.BigInteger, nullable=False),
    sa.Column("contact_id", sa.String(36), nullable=False, index=True),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=False),
    sa.Column("content_expires_at", UTCDateTime(), nullable=True),
    sa.Column("content_shredded", sa.Boolean, nullable=False),
    sa.Column("shredded_at", UTCDateTime(), nullable=True),
    # How the terms count it (SUBJ-7): an SMS per 156 characters; bounces and tests count too.
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("test", sa.Boolean, nullable=False),
    sa.Column("bounced_at", UTCDateTime(), nullable=True),
    sa.Index("ix_rm_messages_controller", "controller", "sent_at"),
)

sweep_runs = sa.Table(
    "rm_sweep_runs",
    metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("started_by", sa.String(128), nullable=False),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Column("contacts", sa.BigInteger, nullable=False),
    sa.Column("messages", sa.BigInteger, nullable=False),
)

retention_totals = sa.Table(
    "rm_retention_totals",
    metadata,
    sa.Column("controller", sa.String(64), primary_key=True),
    sa.Column("contacts", sa.BigInteger, nullable=False),
    sa.Column("contact_events", sa.BigInteger, nullable=False),
    sa.Column("messages", sa.BigInteger, nullable=False),
)

deletions = sa.Table(
    "rm_deletions",
    metadata,
    sa.Column("controller", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=False),
    sa.Column("sweep_run", sa.String(36), nullable=False),
    sa.Column("rule", sa.String(16), nullable=False),
    sa.Column("why", sa.Text, nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("subjects", sa.BigInteger, nullable=False),
    sa.Column("messages", sa.BigInteger, nullable=False),
    sa.Column("policy_version", sa.Text, nullable=False),
)

# -- notices to controllers (ACC-14; handlers in processor/notices/handlers.py) ---------------

notices = sa.Table(
    "rm_notices",
    metadata,
    sa.Column("notice_id", sa.String(36), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("controller", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    # Sealed with the controller's records key, as in the event: no plaintext here.
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("about", sa.String(64), nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("policy_version", sa.Text, nullable=False),
    sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
    sa.Column("acknowledged_by", sa.String(128), nullable=True),
    sa.Index("ix_rm_notices_controller", "controller", "position"),
)

PROJECTED_TABLES = (
    users,
    controllers,
    instructions,
    contacts,
    memberships,
    consents,
    denials,
    access_log,
    messages,
    sweep_runs,
    retention_totals,
    deletions,
    notices,
)
