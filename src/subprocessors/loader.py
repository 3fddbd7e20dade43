# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Reading the policy files from the installed `processor_policies` package.

The files are read through `importlib.resources`, so an installed processor finds them
wherever it runs. A file that is not valid TOML or does not fit its model is refused with
one line naming the file and every offending field (`ConfigurationError`, exit 2): a
policy that half loads would let a rule decide on a default nobody chose.
"""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from processor.kernel.errors import ConfigurationError, InvalidInputError, NotFoundError
from subprocessors.policy import EditionList, TransferPolicy

POLICY_PACKAGE = "processor_policies"
_EDITION = re.compile(r"^[a-z0-9-]+$")
Model = TypeVar("Model", bound=BaseModel)


def parse_policy(model: type[Model], text: str, source: str) -> Model:
    """Parse TOML `text` into `model`, or refuse it with a message naming `source`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{source}: not valid TOML: {error}") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or '(file)'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigurationError(f"{source}: {problems}") from None


def _read(*parts: str) -> str:
    resource = files(POLICY_PACKAGE).joinpath(*parts)
    if not resource.is_file():
        raise NotFoundError(f"policy file {'/'.join(parts)} does not exist")
    return resource.read_text(encoding="utf-8")


def load_transfer_policy() -> TransferPolicy:
    """Load `policies/transfers.toml`: the EEA, adequacy decisions and transfer bases."""
    return parse_policy(TransferPolicy, _read("transfers.toml"), "policies/transfers.toml")


def edition_names() -> tuple[str, ...]:
    """Return the editions that have a sub-processor list."""
    folder = files(POLICY_PACKAGE).joinpath("subprocessors")
    names = (entry.name.removesuffix(".toml") for entry in folder.iterdir())
    return tuple(sorted(name for name in names if _EDITION.match(name)))


def load_edition_list(edition: str) -> EditionList:
    """Load an edition's approved sub-processor list and notice rule (SUB-1, SUB-2)."""
    if not _EDITION.match(edition):
        raise InvalidInputError(f"edition name {edition!r} may use only a-z, 0-9 and '-'")
    source = f"policies/subprocessors/{edition}.toml"
    loaded = parse_policy(EditionList, _read("subprocessors", f"{edition}.toml"), source)
    if loaded.edition != edition:
        raise ConfigurationError(f"{source}: says edition {loaded.edition!r}, expected {edition!r}")
    return loaded
