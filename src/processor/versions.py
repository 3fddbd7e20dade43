"""What `processor --version` reports: the package, every policy file's version, the store schema.

A decision names the policy versions it used; an operator comparing two installations, or
filing a bug, needs the same names without opening a store. Only the standard library is used,
so asking for the version stays fast.
"""

from __future__ import annotations

import tomllib
from importlib import metadata, resources
from importlib.resources.abc import Traversable

# The layout of the stored events, read models and ledger tables. Raise it with any change an
# older release could not read, so `--version` and `status` tell which releases fit a store.
STORE_SCHEMA_VERSION = 1

_POLICIES = "processor_policies"


def package_version() -> str:
    """The installed distribution's version (`unknown` when run from a bare source tree)."""
    try:
        return metadata.version("processor")
    except metadata.PackageNotFoundError:
        return "unknown"


def _toml_files(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith("__"):
            found += _toml_files(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".toml"):
            found.append((f"{prefix}{entry.name}", entry))
    return found


def policy_versions() -> dict[str, str]:
    """Every shipped policy file's `version`, by its path under `policies/` without `.toml`."""
    versions: dict[str, str] = {}
    for name, entry in _toml_files(resources.files(_POLICIES)):
        try:
            version = tomllib.loads(entry.read_text(encoding="utf-8")).get("version")
        except (OSError, tomllib.TOMLDecodeError):
            version = None
        versions[name.removesuffix(".toml")] = str(version) if version else "unreadable"
    return versions


def versions() -> dict[str, object]:
    """The package version, the policy versions and the store schema version."""
    return {
        "processor": package_version(),
        "policies": policy_versions(),
        "store_schema": STORE_SCHEMA_VERSION,
    }


def version_text() -> str:
    """`versions()` as the lines `processor --version` prints."""
    lines = [f"processor {package_version()}", f"store schema {STORE_SCHEMA_VERSION}", "policies:"]
    lines += [f"  {name}: {version}" for name, version in policy_versions().items()]
    return "\n".join(lines)
