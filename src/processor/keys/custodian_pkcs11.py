"""A key custodian behind PKCS#11: the wrapping key never leaves the token (RET-5, SUBJ-4).

Each generation is an AES-256 secret key generated inside the token (sensitive, never
extractable), labelled `processor:<store>:wrap:<g>`. KEKs, system keys and the check value are
encrypted and decrypted with CKM_AES_GCM inside the token (the key-store name bound as
associated data); we only ever see the wrapped bytes and the data keys we own. Destroying a
generation is `C_DestroyObject`: what the token does with the bytes after that rests on the
module's vendor (SoftHSM2 in tests, an HSM or a cloud KMS's module in production).

Configuration: PROCESSOR_PKCS11_MODULE (the .so), PROCESSOR_PKCS11_TOKEN (label),
PROCESSOR_PKCS11_PIN or PROCESSOR_PKCS11_PIN_FILE.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from processor.kernel.errors import ConfigurationError, IntegrityFailureError
from processor.keys.wrapping import PKCS11, Custodian

if TYPE_CHECKING:
    from processor.config import Settings

_NONCE = 12
_TAG_BITS = 128
_KEY_BITS = 256
# A PKCS#11 library is initialised once per process (C_Initialize); we keep it by path.
_LIBS: dict[str, Any] = {}


def _lib(module: str) -> Any:  # noqa: ANN401 - python-pkcs11's lib object
    import pkcs11

    lib = _LIBS.get(module)
    if lib is None:
        if not os.path.exists(module):  # noqa: PTH110 - a path string from configuration
            raise ConfigurationError(f"PROCESSOR_PKCS11_MODULE {module} does not exist")
        try:
            lib = _LIBS[module] = pkcs11.lib(module)
        except Exception as exc:  # noqa: BLE001 - the loader raises many types
            raise ConfigurationError(
                f"cannot load the PKCS#11 module {module} ({type(exc).__name__})"
            ) from None
    return lib


class Pkcs11Custodian(Custodian):
    """Wrapping keys as non-extractable AES keys in a PKCS#11 token, one per generation."""

    kind = PKCS11

    def __init__(self, module: str, token: str, pin: str, store_id: str) -> None:
        import pkcs11

        self._token_label = token
        self._prefix = f"processor:{store_id}:wrap:"
        try:
            found = _lib(module).get_token(token_label=token)
        except pkcs11.exceptions.NoSuchToken:
            raise ConfigurationError(f"no PKCS#11 token labelled {token!r}") from None
        try:
            self._session: Any = found.open(user_pin=pin, rw=True)
        except pkcs11.exceptions.PinIncorrect:
            raise ConfigurationError(
                f"the PKCS#11 PIN for token {token!r} is wrong (PROCESSOR_PKCS11_PIN)"
            ) from None
        self._keys: dict[int, Any] = {}

    @property
    def _open(self) -> Any:  # noqa: ANN401 - python-pkcs11's session
        if self._session is None:
            raise ConfigurationError("the PKCS#11 session was closed")
        return self._session

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool) -> Pkcs11Custodian:
        """The custodian PROCESSOR_PKCS11_* name; with `create`, generation 1 is made if none."""
        if not settings.pkcs11_module or not settings.pkcs11_token:
            raise ConfigurationError(
                "the pkcs11 custodian needs PROCESSOR_PKCS11_MODULE and PROCESSOR_PKCS11_TOKEN"
            )
        pin = settings.pkcs11_pin
        if pin is None and settings.pkcs11_pin_file is not None:
            from processor.config import check_private

            check_private(settings.pkcs11_pin_file, 0o600)
            pin = settings.pkcs11_pin_file.read_text(encoding="utf-8").strip()
        if not pin:
            raise ConfigurationError(
                "the pkcs11 custodian needs PROCESSOR_PKCS11_PIN or PROCESSOR_PKCS11_PIN_FILE"
            )
        custodian = cls(settings.pkcs11_module, settings.pkcs11_token, pin, settings.store_key())
        if create and not custodian.generations():
            custodian.ratchet()
        return custodian

    @property
    def can_ratchet(self) -> bool:
        """The token makes and destroys keys."""
        return True

    def _objects(self) -> dict[int, Any]:
        from pkcs11 import Attribute, ObjectClass

        found: dict[int, Any] = {}
        for obj in self._open.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            label = str(obj.label or "")
            number = label[len(self._prefix) :]
            if label.startswith(self._prefix) and number.isdigit():
                found[int(number)] = obj
        return found

    def generations(self) -> tuple[int, ...]:
        """The generations whose keys are in the token."""
        return tuple(sorted(self._objects()))

    def _key(self, generation: int) -> Any:  # noqa: ANN401 - python-pkcs11's key object
        key = self._keys.get(generation)
        if key is None:
            key = self._objects().get(generation)
            if key is None:
                raise self.missing(generation)
            self._keys[generation] = key
        return key

    def wrap(self, generation: int, name: str, key: bytes) -> bytes:
        """AES-GCM inside the token; the nonce is stored in front of the ciphertext."""
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        nonce = os.urandom(_NONCE)
        params = GCMParams(nonce, name.encode(), _TAG_BITS)
        sealed = self._key(generation).encrypt(
            key, mechanism=Mechanism.AES_GCM, mechanism_param=params
        )
        return nonce + bytes(sealed)

    def unwrap(self, generation: int, name: str, wrapped: bytes) -> bytes:
        """AES-GCM decryption inside the token; any failure is an integrity failure."""
        from pkcs11 import Mechanism
        from pkcs11.exceptions import PKCS11Error
        from pkcs11.mechanisms import GCMParams

        key = self._key(generation)
        params = GCMParams(wrapped[:_NONCE], name.encode(), _TAG_BITS)
        try:
            return bytes(
                key.decrypt(wrapped[_NONCE:], mechanism=Mechanism.AES_GCM, mechanism_param=params)
            )
        except PKCS11Error:
            raise IntegrityFailureError(
                f"key {name!r} cannot be unwrapped: wrong wrapping key or altered key store"
            ) from None

    def ratchet(self) -> int:
        """Generate generation n+1 inside the token: AES-256, sensitive, not extractable."""
        from pkcs11 import Attribute, KeyType

        generation = self.generation + 1
        self._keys[generation] = self._open.generate_key(
            KeyType.AES,
            _KEY_BITS,
            label=f"{self._prefix}{generation}",
            store=True,
            template={
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.ENCRYPT: True,
                Attribute.DECRYPT: True,
                Attribute.WRAP: False,
                Attribute.UNWRAP: False,
            },
        )
        return generation

    def destroy(self, generation: int) -> None:
        """Destroy the generation's key object inside the token."""
        self._keys.pop(generation, None)
        key = self._objects().get(generation)
        if key is not None:
            key.destroy()

    def key_object(self, generation: int) -> Any:  # noqa: ANN401 - python-pkcs11's key object
        """The token's key object of a generation (tests read its attributes)."""
        return self._key(generation)

    def describe(self) -> str:
        """The token's label."""
        return f"pkcs11 (token {self._token_label!r})"

    def close(self) -> None:
        """Close the token session (once)."""
        if self._session is not None:
            self._session.close()
            self._session = None
            self._keys.clear()
