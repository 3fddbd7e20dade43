"""Read-model tables: current state as projections of the event store.

They hold no plaintext personal data: contacts are found through blind indexes, and every
personal value stays sealed in the events. A read model can always be dropped and rebuilt.
"""

from __future__ import annotations

import sqlalchemy as sa

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
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("controller", sa.String(64), nullable=True, index=True),
    sa.Column("confidentiality_signed", sa.String(10), nullable=True),
    sa.Column("trained", sa.String(10), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
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
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
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
    sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("given_by", sa.String(128), nullable=False),
)

contacts = sa.Table(
    "rm_contacts",
    metadata,
    sa.Column("contact_id", sa.String(36), primary_key=True),
    sa.Column("controller", sa.String(64), nullable=False),
    sa.Column("email_index", sa.String(32), nullable=True),
    sa.Column("phone_index", sa.String(32), nullable=True),
    sa.Column("restricted", sa.Boolean, nullable=False),
    sa.Column("objected", sa.Boolean, nullable=False),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_rm_contacts_email", "controller", "email_index"),
    sa.Index("ix_rm_contacts_phone", "controller", "phone_index"),
)

memberships = sa.Table(
    "rm_memberships",
    metadata,
    sa.Column("contact_id", sa.String(36), primary_key=True),
    sa.Column("list_name", sa.String(128), primary_key=True),
    sa.Column("controller", sa.String(64), nullable=False),
    sa.Column("subscribed", sa.Boolean, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
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
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False, index=True),
    sa.Column("command", sa.String(64), nullable=False),
    sa.Column("controller", sa.String(64), nullable=True),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

PROJECTED_TABLES = (users, controllers, instructions, contacts, memberships, consents, denials)
