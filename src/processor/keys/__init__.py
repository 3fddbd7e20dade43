"""The key family: custody, the key store, the KEK's life cycle, rotation and ratchet, sealing.

Per-subject keys wrapped by a rotated key-encryption key under the custodian's key (envelope
encryption), crypto-shredding, blind indexes, free-text sealing, and the erasure register by
which the events decide who is erased.
"""
