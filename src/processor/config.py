"""Where the processor keeps its data, from options and environment variables.

Embedded default: SQLite files in one data directory (events, read models, ledger and, in a file
of its own, the key store). Production: PostgreSQL for events, read models and ledger, with the
key store in a separate schema or database, so that a backup of the events never holds keys.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from processor.errors import ConfigurationError
from processor.keystore import KEY_BYTES, MasterKey

DEFAULT_DATA_DIR = "processor-data"
MASTER_KEY_FILE = "master.key"


@dataclass(frozen=True)
class PostgresLocation:
    """A PostgreSQL database and the schema inside it."""

    host: str
    port: int
    dbname: str
    user: str
    password: str
    schema: str

    @classmethod
    def parse(cls, url: str, default_schema: str) -> PostgresLocation:
        """Parse `postgresql://user[:pw]@host[:port]/db[?schema=NAME]`."""
        parts = urlsplit(url)
        if parts.scheme not in {"postgresql", "postgres", "postgresql+psycopg"}:
            raise ConfigurationError(f"not a PostgreSQL URL: scheme {parts.scheme!r}")
        query = parse_qs(parts.query)
        schema = (query.get("schema") or [default_schema])[0]
        if not schema.replace("_", "").isalnum():
            raise ConfigurationError(f"invalid schema name {schema!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            dbname=(parts.path or "/").lstrip("/") or "postgres",
            user=parts.username or os.environ.get("USER", "postgres"),
            password=parts.password or "",
            schema=schema,
        )

    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL for this database (psycopg 3 driver)."""
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{self.dbname}"


def with_schema(url: str, schema: str) -> str:
    """Return `url` with its `schema` query parameter set (used by tests and defaults)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query["schema"] = [schema]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def config_home() -> Path:
    """The person's configuration directory for the processor (XDG_CONFIG_HOME/processor)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "processor"


@dataclass(frozen=True)
class Settings:
    """Resolved storage settings for one invocation."""

    data_dir: Path
    database_url: str | None = None
    keystore_url: str | None = None
    master_key_hex: str | None = None

    @classmethod
    def from_env(cls, data_dir: str | None = None, database_url: str | None = None) -> Settings:
        """Options win over environment variables, which win over defaults."""
        return cls(
            data_dir=Path(data_dir or os.environ.get("PROCESSOR_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url=database_url or os.environ.get("PROCESSOR_DATABASE_URL") or None,
            keystore_url=os.environ.get("PROCESSOR_KEYSTORE_URL") or None,
            master_key_hex=os.environ.get("PROCESSOR_MASTER_KEY") or None,
        )

    def store_label(self) -> str:
        """Where the store is, as people would name it (no password)."""
        if self.database_url:
            loc = self.events_location()
            return f"postgresql://{loc.user}@{loc.host}:{loc.port}/{loc.dbname}?schema={loc.schema}"
        return str(self.data_dir.resolve())

    def store_key(self) -> str:
        """A short stable name for this store, for per-store files in the user's config dir."""
        return hashlib.sha256(self.store_label().encode("utf-8")).hexdigest()[:16]

    @property
    def backend(self) -> str:
        """`postgres` when a database URL is set, else `sqlite`."""
        return "postgres" if self.database_url else "sqlite"

    def events_location(self) -> PostgresLocation:
        """The PostgreSQL location of events, read models and ledger."""
        if not self.database_url:
            raise ConfigurationError("no PROCESSOR_DATABASE_URL")
        return PostgresLocation.parse(self.database_url, "public")

    def keystore_location(self) -> PostgresLocation:
        """The key store's location: PROCESSOR_KEYSTORE_URL, or a `<schema>_keys` schema."""
        events = self.events_location()
        if self.keystore_url:
            keys = PostgresLocation.parse(self.keystore_url, "processor_keys")
        else:
            keys = PostgresLocation.parse(self.database_url or "", f"{events.schema}_keys")
        same_db = (keys.host, keys.port, keys.dbname) == (events.host, events.port, events.dbname)
        if same_db and keys.schema == events.schema:
            raise ConfigurationError(
                "the key store must be a separate database or schema from the events"
            )
        return keys

    def master_key(self, *, create: bool) -> MasterKey:
        """The master key: PROCESSOR_MASTER_KEY, or `master.key` (0600) in the data directory."""
        if self.master_key_hex:
            return MasterKey.from_hex(self.master_key_hex)
        path = self.data_dir / MASTER_KEY_FILE
        if not path.exists():
            if not create:
                raise ConfigurationError(
                    f"no master key at {path}: run `processor init` or set PROCESSOR_MASTER_KEY"
                )
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(os.urandom(KEY_BYTES).hex() + "\n")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigurationError(
                f"{path} is readable by others (mode {mode:o}); run chmod 600 on it"
            )
        return MasterKey.from_hex(path.read_text(encoding="ascii"))
