"""`processor serve`: the HTTP API (FastAPI on uvicorn) over this store.

One worker on the embedded SQLite store; several on PostgreSQL. SIGTERM (or Ctrl-C) stops
accepting connections and lets the requests in flight finish (up to 30 s) before the store is
closed, so nothing is half written: every request's events are saved in one transaction anyway.
"""

from __future__ import annotations

import click

from .state import state


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (PostgreSQL only; the SQLite store takes one).",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the HTTP API and OpenGDPR endpoints (OpenAPI at /openapi.json)."""
    import uvicorn

    from processor.api.serve import GRACEFUL_SECONDS, check_workers, export_settings
    from processor.app import Processor

    settings = state(ctx).settings
    check_workers(settings, workers)
    Processor.open(settings).close()  # a missing or unreadable store fails here, in one line
    export_settings(settings)
    click.echo(f"serving {settings.store_label()} on http://{host}:{port} ({workers} worker"
               f"{'s' if workers > 1 else ''})", err=True)  # fmt: skip
    uvicorn.run(
        "processor.api.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )


def register(cli: click.Group) -> None:
    """Attach the command."""
    cli.add_command(serve)
