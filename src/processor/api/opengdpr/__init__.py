"""OpenGDPR data-subject requests (SUBJ-4, SUBJ-6, RET-3): discovery, requests, status, callbacks.

`domain` holds the request and register aggregates (every request and status change is an
event), `signing` the Ed25519 signatures over exact bodies, `service` the use cases over the
same sessions as everything else, `callbacks` the signed, retried status callbacks, and `routes`
the HTTP endpoints with the spec's field names.
"""
