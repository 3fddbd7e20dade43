"""The breach register (BR-1 to BR-5): incidents, impact by time travel, clocks, notices, timelines.

`domain` holds the aggregates, `impact` the time travel over the events, `clocks` the deadlines,
`notice` the Art. 33(3) content, `timeline` the pictures, `service` the use cases and `report`
what the audit report reads. This module imports none of them, so importing the domain stays
free of I/O.
"""
