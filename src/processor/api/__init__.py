"""The HTTP API: FastAPI over the same sessions, services and policies as the command line.

`app.create_app(settings)` builds the ASGI app; `runtime` opens the store once per process and
authenticates each request with a personal bearer credential (ACC-12); `problems` turns every
error into an RFC 9457 problem document with the CLI's message; `routes` holds the `/v1/`
resources named after the CLI's commands; `streams` moves CSV imports and exports through
without holding them whole; `opengdpr` speaks OpenGDPR with signed responses and callbacks;
`serve` runs it all under uvicorn (`processor serve`).
"""
