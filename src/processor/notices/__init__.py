"""Notices to controllers: one mechanism for everything the processor tells a controller.

A suspected misuse (ACC-14), and later sub-processor changes, breaches, trial ends and flagged
instructions, are each one `Notice` aggregate (`ControllerNotified`, then `NoticeAcknowledged`).
`domain` holds the aggregate, `service` the use cases and `new_notice`, `handlers` the read model.
This module imports none of them, so importing the domain stays free of I/O.
"""
