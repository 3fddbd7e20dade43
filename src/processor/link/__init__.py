"""The ledger link: the pure `ledger` library wired into the store's commit path.

Leaves appended and checkpoints signed after each commit, record and snapshot MACs, witnesses,
verification, and the custody of the checkpoint log.
"""
