"""The ledger link: the pure `ledger` library wired into the store's commit path.

Leaves appended and checkpoints signed after each commit, witnesses, verification, and the
custody of the checkpoint log. The MACs on stored records and snapshots, which the ledger checks
before it signs, are the event store's own (`processor.storage.recordmac`,
`processor.storage.snapshotcover`).
"""
