"""Checks of the stores against the events the ledger covers (`processor doctor`).

Read models, snapshots and the key store are all outside the ledger; each check here recomputes
what the events say they must be and reports every place where they are not. Nothing in this
package writes to a live store.
"""
