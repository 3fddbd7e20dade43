"""`processor serve`: the HTTP API (FastAPI on uvicorn) over this store.

One worker on the embedded SQLite store; several on PostgreSQL. SIGTERM (or Ctrl-C) stops
accepting connections and lets the requests in flight finish (up to 30 s) before the store is
closed, so nothing is half written: every request's events are saved in one transaction anyway.
The public base URL, body limit and callback allowances reach the workers as the environment
variables they also can be set by (PROCESSOR_PUBLIC_URL, PROCESSOR_MAX_BODY_MB,
PROCESSOR_CALLBACK_ALLOW), so a worker reads them exactly as a directly built app does.
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
@click.option(
    "--public-url",
    metavar="URL",
    help="Base URL controllers reach us at; signed results_url and processor_certificate are "
    "built from it, never from the Host header (PROCESSOR_PUBLIC_URL; default on loopback: "
    "the bound address).",
)
@click.option(
    "--max-body-mb",
    type=click.FloatRange(min=0, min_open=True),
    help="Largest request body in MB; past it the answer is 413 (PROCESSOR_MAX_BODY_MB; "
    "default 64).",
)
@click.option(
    "--callback-allow",
    metavar="RANGES",
    help="Non-public address ranges OpenGDPR callbacks may go to anyway, comma-separated "
    "(e.g. 10.20.0.0/16); by default only public addresses (PROCESSOR_CALLBACK_ALLOW).",
)
@click.option(
    "--tls-cert",
    metavar="FILE",
    envvar="PROCESSOR_TLS_CERT",
    help="PEM certificate (chain) to terminate TLS with; with --tls-key (PROCESSOR_TLS_CERT).",
)
@click.option(
    "--tls-key",
    metavar="FILE",
    envvar="PROCESSOR_TLS_KEY",
    help="PEM private key of --tls-cert (PROCESSOR_TLS_KEY).",
)
@click.option(
    "--behind-tls-proxy",
    is_flag=True,
    help="A proxy in front of this server terminates TLS; plain HTTP is then served to it "
    "(without this or a certificate, only a loopback address is served, ACC-17).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    public_url: str | None,
    max_body_mb: float | None,
    callback_allow: str | None,
    tls_cert: str | None,
    tls_key: str | None,
    behind_tls_proxy: bool,
) -> None:
    """Serve the HTTP API and OpenGDPR endpoints (OpenAPI at /openapi.json)."""
    import os

    import uvicorn

    from processor.api import publicurl
    from processor.api import transport as tr
    from processor.api.bodylimit import MAX_BODY_ENV, max_body_bytes
    from processor.api.opengdpr.destinations import ALLOW_ENV, parse_allow
    from processor.api.serve import GRACEFUL_SECONDS, check_workers, export_settings
    from processor.app import Processor

    settings = state(ctx).settings
    check_workers(settings, workers)
    # Everything that can refuse is checked before the environment is changed.
    base, defaulted = publicurl.for_serving(public_url, host, port)
    transport = tr.for_serving(host, tls_cert, tls_key, behind_tls_proxy=behind_tls_proxy)
    if defaulted:
        base = base.replace("http://", f"{transport.scheme}://", 1)
    limit = max_body_bytes(max_body_mb)
    allowed = parse_allow(callback_allow)
    Processor.open(settings).close()  # a missing or unreadable store fails here, in one line
    export_settings(settings)
    os.environ[publicurl.PUBLIC_URL_ENV] = base
    os.environ[MAX_BODY_ENV] = str(limit / (1024 * 1024))
    os.environ[ALLOW_ENV] = ",".join(map(str, allowed))
    click.echo(f"serving {settings.store_label()} on {transport.scheme}://{host}:{port} "
               f"({transport.describe()}; {workers} worker"
               f"{'s' if workers > 1 else ''}); signed links use {base}"
               + (" (the bound address: give --public-url for the one controllers use)"
                  if defaulted else "")
               + f"; bodies up to {limit / (1024 * 1024):g} MB"
               + (f"; callbacks also to {', '.join(map(str, allowed))}" if allowed else ""),
               err=True)  # fmt: skip
    uvicorn.run(
        "processor.api.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_certfile=transport.certfile,
        ssl_keyfile=transport.keyfile,
    )


def register(cli: click.Group) -> None:
    """Attach the command."""
    cli.add_command(serve)
