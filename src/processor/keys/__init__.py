"""The key family: custody, the key store, the KEK's life cycle, rotation and ratchet, sealing.

Per-subject keys wrapped by a rotated key-encryption key under the custodian's key (envelope
encryption), crypto-shredding, blind indexes, free-text sealing, and the erasure register by
which the events decide who is erased.

The rest of the processor imports the key family from here. Four modules are left out on
purpose and imported from their own module where one command needs them, so that an everyday
command does not load them: `custodian_pkcs11` (the PKCS#11 library), `ratchet`,
`masterrotation` and `rotation` (the KEK schedule).

Inside the family the files are layered, lowest first: `wrapping` (wrapping keys, the master
key, the custodian interface), `custodian` and `custodian_pkcs11` (where wrapping keys live),
`keystore` (the key store), `keklifecycle` (KEK rotation), then `ratchet`, `masterrotation` and
`rotation`; `sealing`, `freetext`, `blindindex` and `erasures` stand beside them.
"""

from processor.keys.blindindex import (
    EMAIL_RULE,
    blind_index,
    normalise_email,
    normalise_phone,
    pseudonym,
)
from processor.keys.custodian import (
    FileCustodian,
    master_key,
    open_custodian,
)
from processor.keys.erasures import ErasureRegister
from processor.keys.freetext import (
    open_for_subject,
    open_records,
    open_records_optional,
    seal_records,
    seal_records_optional,
)
from processor.keys.keklifecycle import KekStatus, RotationResult, kek_status, rotate_kek
from processor.keys.keystore import CHECK_NAME, KeyStore, key_store_check
from processor.keys.sealing import (
    ERASED,
    PROCESSOR_RECORDS,
    Erased,
    Sealer,
    records_subject,
)
from processor.keys.wrapping import FILE, PKCS11, Custodian, MasterKey

__all__ = [
    "CHECK_NAME",
    "EMAIL_RULE",
    "ERASED",
    "FILE",
    "PKCS11",
    "PROCESSOR_RECORDS",
    "Custodian",
    "Erased",
    "ErasureRegister",
    "FileCustodian",
    "KekStatus",
    "KeyStore",
    "MasterKey",
    "RotationResult",
    "Sealer",
    "blind_index",
    "kek_status",
    "key_store_check",
    "master_key",
    "normalise_email",
    "normalise_phone",
    "open_custodian",
    "open_for_subject",
    "open_records",
    "open_records_optional",
    "pseudonym",
    "records_subject",
    "rotate_kek",
    "seal_records",
    "seal_records_optional",
]
