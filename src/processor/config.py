"""Where the processor keeps its data and its keys, from options and environment variables.

Embedded default: SQLite files in one data directory (events, read models, ledger). Production:
PostgreSQL for events, read models and ledger, with the key store in a separate schema or
database. Either way the keys live apart from the data (RET-5): the master key and the SQLite
key store default to the person's configuration directory, named by the store, so a backup of
the data directory never holds a key and cannot bring an erased subject back.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from processor.kernel.errors import ConfigurationError

DEFAULT_DATA_DIR = "processor-data"
MASTER_KEY_FILE = "master.key"
KEYSTORE_FILE = "keys.sqlite"
WHY_KEYS_APART = (
    "a backup of the data directory would then hold the keys and bring erased subjects back"
)


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
    master_key_file: Path | None = None
    keystore_path: Path | None = None
    # The append-only checkpoint log kept outside the database (default: the config folder).
    checkpoint_log: Path | None = None
    # The key custodian (processor.keys.custodian): file, pkcs11, or none set (chosen from the
    # above).
    custodian: str | None = None
    pkcs11_module: str | None = None
    pkcs11_token: str | None = None
    pkcs11_pin: str | None = None
    pkcs11_pin_file: Path | None = None

    @classmethod
    def from_env(
        cls,
        data_dir: str | None = None,
        database_url: str | None = None,
        *,
        keystore_url: str | None = None,
        keystore_path: str | None = None,
        master_key_file: str | None = None,
    ) -> Settings:
        """Options win over environment variables, which win over defaults."""
        key_file = master_key_file or os.environ.get("PROCESSOR_MASTER_KEY_FILE")
        key_path = keystore_path or os.environ.get("PROCESSOR_KEYSTORE_PATH")
        pin_file = os.environ.get("PROCESSOR_PKCS11_PIN_FILE")
        return cls(
            data_dir=Path(data_dir or os.environ.get("PROCESSOR_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url=database_url or os.environ.get("PROCESSOR_DATABASE_URL") or None,
            keystore_url=keystore_url or os.environ.get("PROCESSOR_KEYSTORE_URL") or None,
            master_key_hex=os.environ.get("PROCESSOR_MASTER_KEY") or None,
            master_key_file=Path(key_file) if key_file else None,
            keystore_path=Path(key_path) if key_path else None,
            custodian=os.environ.get("PROCESSOR_CUSTODIAN") or None,
            pkcs11_module=os.environ.get("PROCESSOR_PKCS11_MODULE") or None,
            pkcs11_token=os.environ.get("PROCESSOR_PKCS11_TOKEN") or None,
            pkcs11_pin=os.environ.get("PROCESSOR_PKCS11_PIN") or None,
            pkcs11_pin_file=Path(pin_file) if pin_file else None,
        )

    def custodian_kind(self) -> str:
        """`pkcs11` or `file` when chosen; else `fixed` for an operator's key, else `file`."""
        if self.custodian:
            return self.custodian.strip().lower()
        if self.master_key_hex or self.master_key_file is not None:
            return "fixed"
        return "file"

    def with_data_dir(self, data_dir: Path) -> Settings:
        """The same settings for another data directory (the demo's fresh store)."""
        return replace(self, data_dir=data_dir)

    def store_label(self) -> str:
        """Where the store is, as people would name it (no password)."""
        if self.database_url:
            loc = self.events_location()
            return f"postgresql://{loc.user}@{loc.host}:{loc.port}/{loc.dbname}?schema={loc.schema}"
        return str(self.data_dir.resolve())

    def store_key(self) -> str:
        """A short stable name for this store, for per-store files in the user's config dir.

        An SQLite store carries it in its data directory (`store.id`, written at `init` and on
        the first open of an older store), so the store finds its keys, kept credentials and
        checkpoint log again after its folder is moved. Without the file (a store not opened
        since, or a PostgreSQL store) it is derived from where the store is.
        """
        if not self.database_url:
            pinned = read_store_id(self.data_dir)
            if pinned is not None:
                return pinned
        return self.derived_store_key()

    def derived_store_key(self) -> str:
        """The store's name as derived from its location (what `store.id` pins at first)."""
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

    # -- keys, apart from the data (RET-5) --------------------------------------------------

    def key_dir(self) -> Path:
        """The folder of this store's keys in the person's configuration directory (0700)."""
        return config_home() / "stores" / self.store_key()

    def master_key_path(self) -> Path:
        """Where the master key file is: --master-key-file, else `master.key` in `key_dir()`.

        A store made before keys moved out keeps its `master.key` in the data directory; it is
        still found there, but `init` never puts one there unless told to.
        """
        if self.master_key_file is not None:
            return self.master_key_file
        default = self.key_dir() / MASTER_KEY_FILE
        legacy = self.data_dir / MASTER_KEY_FILE
        if not default.exists() and legacy.exists():
            return legacy
        return default

    def keystore_file(self) -> Path:
        """The SQLite key store: --keystore-path, else `keys.sqlite` in `key_dir()` (or legacy)."""
        if self.keystore_path is not None:
            return self.keystore_path
        default = self.key_dir() / KEYSTORE_FILE
        legacy = self.data_dir / KEYSTORE_FILE
        if not default.exists() and legacy.exists():
            return legacy
        return default

    def check_keys_apart(self) -> None:
        """Refuse a master key or SQLite key store inside the data directory (init, RET-5)."""
        data = self.data_dir.resolve()
        places = [] if self.master_key_hex else [("master key", self.master_key_path())]
        if self.backend == "sqlite":
            places.append(("key store", self.keystore_file()))
        for what, path in places:
            if path.resolve().is_relative_to(data):
                raise ConfigurationError(
                    f"the {what} {path} is inside the data directory: {WHY_KEYS_APART} "
                    "(give --allow-keys-in-data-dir to do it anyway)"
                )


STORE_ID_FILE = "store.id"
"""The SQLite store's own name, in its data directory (not secret: it only names folders)."""
_STORE_ID = re.compile(r"[0-9a-f]{16}")


def read_store_id(data_dir: Path) -> str | None:
    """The id pinned in `data_dir`, None when there is none; a damaged one is refused."""
    try:
        text = (data_dir / STORE_ID_FILE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeError) as exc:
        raise ConfigurationError(f"cannot read {data_dir / STORE_ID_FILE}: {exc}") from None
    if not _STORE_ID.fullmatch(text):
        raise ConfigurationError(
            f"{data_dir / STORE_ID_FILE} is damaged (16 hex digits expected); "
            "`processor stores list` shows the ids this account keeps keys for"
        )
    return text


def private_dir(path: Path) -> None:
    """Create `path` (and missing parents) readable by its owner only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def check_private(path: Path, mode: int) -> None:
    """Refuse a file or folder others may read or write, naming the chmod that fixes it."""
    have = stat.S_IMODE(path.stat().st_mode)
    if have & 0o077:
        raise ConfigurationError(
            f"{path} is open to other users (mode {have:o}); run: chmod {mode:o} {path}"
        )
