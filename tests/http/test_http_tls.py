"""All access is encrypted in transit (ACC-17): `serve` terminates TLS or sits behind a declared
TLS proxy, refuses plain HTTP off loopback, and every message says how it went out.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from served import Server, new_store
from support import login

from processor.api import transport
from processor.domain.messages import NOT_TRANSMITTED
from processor.kernel.errors import ConfigurationError


def _self_signed(tmp_path):
    """A certificate and key for 127.0.0.1, written as PEM files; their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_refuses_plain_http_on_a_public_address__ACC_17(tmp_path):
    """`serve --host 0.0.0.0` without TLS or a declared proxy: exit 2, one line, not started."""
    from cli_helpers import Cli

    from processor.config import Settings

    cli = Cli(Settings(data_dir=tmp_path / "d"))
    public = "0.0.0.0"  # noqa: S104 - the address refused
    error = cli.fails(
        2,
        "serve",
        "--host",
        public,
        "--public-url",
        "https://p.example/",
        "--port",
        "1",
    )
    assert "encrypted in transit" in error and "--tls-cert" in error
    assert len(error.strip().splitlines()) == 1
    error = cli.fails(2, "serve", "--tls-cert", str(tmp_path / "no.pem"), "--port", "1")
    assert "--tls-key" in error


def test_transport_is_tls_a_declared_proxy_or_loopback_only__ACC_17(tmp_path):
    """Off loopback only TLS here or a declared TLS proxy is accepted; the pair goes together."""
    cert, key = _self_signed(tmp_path)
    public = "0.0.0.0"  # noqa: S104
    own = transport.for_serving(public, str(cert), str(key))
    assert (own.kind, own.scheme, own.certfile, own.keyfile) == ("tls", "https", cert, key)
    proxied = transport.for_serving(public, None, None, behind_tls_proxy=True)
    assert (proxied.kind, proxied.certfile) == ("tls-proxy", None)
    assert transport.for_serving("127.0.0.1", None, None).kind == "loopback"
    for bad in (
        lambda: transport.for_serving(public, None, None),
        lambda: transport.for_serving("10.1.2.3", None, None),
        lambda: transport.for_serving(public, str(cert), None),
        lambda: transport.for_serving(public, str(cert), str(key), behind_tls_proxy=True),
        lambda: transport.for_serving(public, str(tmp_path / "missing"), str(key)),
    ):
        with pytest.raises(ConfigurationError):
            bad()


def test_serve_with_its_own_certificate_answers_over_https__ACC_17(settings, tmp_path):
    """Given a certificate and key, `serve` speaks TLS: https answers, plain http does not."""
    new_store(settings)
    cert, key = _self_signed(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    extra = ("--tls-cert", str(cert), "--tls-key", str(key))
    with Server(settings, extra=extra, scheme="https", verify=trusted) as server:
        assert server.url.startswith("https://")
        answer = httpx.get(f"{server.url}/v1/ledger/head", verify=trusted, timeout=10)
        assert answer.status_code == 200
        plain = server.url.replace("https://", "http://")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{plain}/v1/ledger/head", timeout=5).raise_for_status()


def test_a_message_records_whether_it_went_out_over_tls__ACC_17(acme):
    """Each `MessageRecorded` carries `tls`; this system transmits nothing itself and says so."""
    alice = login(acme, "alice")
    cid = str(alice.contacts.add("acme", "news", "t@example.dk", "email:form")["contact_id"])
    sent = alice.messages.record("acme", cid, "email", "Offer", "Hello")
    assert sent["tls"] == NOT_TRANSMITTED
    message = alice.messages.load("acme", sent["message_id"])
    assert message.tls == NOT_TRANSMITTED
    (recorded,) = [
        e for e in acme.store.events.get(message.id) if type(e).__name__ == "MessageRecorded"
    ]
    assert recorded.tls == NOT_TRANSMITTED
    assert alice.messages.show("acme", sent["message_id"])["tls"] == NOT_TRANSMITTED
    campaign = alice.messages.send("acme", "news", "email", "Offer", "Hello all")
    assert campaign["tls"] == NOT_TRANSMITTED
