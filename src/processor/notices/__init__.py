"""Notices to controllers: one mechanism for everything the processor tells a controller.

A suspected misuse (ACC-14), and later sub-processor changes, breaches, trial ends and flagged
instructions, are each one `Notice` aggregate (`ControllerNotified`, then `NoticeAcknowledged`).
`domain` holds the aggregate, `post` the `new_notice` every fact-reporter calls, `service` the
use cases of reading and acknowledging, `handlers` the read model.
This module imports none of them, so importing the domain stays free of I/O.
"""
