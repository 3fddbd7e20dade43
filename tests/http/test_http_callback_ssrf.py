"""Status callbacks cannot be aimed inside our network (SSRF), and a dead URL delays no other
(SUBJ-4). Registration refuses non-public literal addresses; delivery resolves the name once,
refuses a private answer, and connects to the checked address; each origin has its own queue.

DNS is the one outside part: a test's resolver answers for the reserved `.test` names, as an
attacker's DNS server would, through the same seam the system resolver fills in production.
"""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from http_helpers import Api, TestClient
from opengdpr_client import CallbackServer, Client

from processor.api.app import create_app
from processor.api.opengdpr.destinations import Destinations, parse_allow, pinned_post
from processor.api.opengdpr.domain import request_id
from processor.kernel.errors import ConfigurationError

DOMAIN = "processor.test"
LOOPBACK = ("127.0.0.0/8", "::1/128")
NON_PUBLIC = (
    "https://127.0.0.1/hook",
    "http://127.0.0.1:8080/hook",
    "http://localhost:8080/hook",
    "https://[::1]/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://100.64.0.1/hook",
    "https://[fd12:3456::1]/hook",
    "https://[fe80::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://224.0.0.1/hook",
    "https://[ff02::1]/hook",
    "https://0.0.0.0/hook",
    "https://[::]/hook",
)


def _app(desk, settings, clock, **options):
    opts = {"domain": DOMAIN, "backoff": (0.05,), "timeout": 2.0, "callback_allow": (), **options}
    return create_app(settings, clock=clock, opengdpr=opts)


def _register(api: Api, *urls: str):
    return api.as_("alice", "PUT", "/v1/controllers/acme/opengdpr/callbacks",
                   json={"status_callback_urls": list(urls)})  # fmt: skip


def _attempts(api: Api, srid: str) -> list[tuple[str, str, bool, str]]:
    events = api.proc.store.events.get(request_id("acme", srid))
    return [(e.url, e.request_status, e.delivered, e.error) for e in events
            if type(e).__name__.endswith("CallbackAttempted")]  # fmt: skip


def test_non_public_callback_urls_are_refused_unless_allowed__SUBJ_4(desk, settings, clock):
    """Loopback, link-local, private, shared, unique-local, multicast, unspecified and IPv4-mapped
    addresses (and `localhost`) are refused at registration, one line each, nothing saved; the
    operator's allowance lets loopback through (and nothing else).
    """
    with TestClient(_app(desk, settings, clock), raise_server_exceptions=False) as http:
        api = Api(desk, http)
        for url in NON_PUBLIC:
            r = _register(api, url)
            assert r.status_code == 400, (url, r.text)
            assert r.json()["detail"].startswith("callback URL refused: "), url
            assert "\n" not in r.json()["detail"]
        assert api.proc.find(request_id("acme", "x")) is None
        assert _register(api, "https://controller.example/hook").status_code == 200
    app = _app(desk, settings, clock, callback_allow=LOOPBACK)
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        for url in ("http://127.0.0.1:8080/hook", "https://[::1]/hook",
                    "https://[::ffff:127.0.0.1]/hook", "http://localhost:8080/hook"):  # fmt: skip
            assert _register(api, url).status_code == 200, url
        assert _register(api, "https://10.0.0.5/hook").status_code == 400


def test_a_name_resolving_to_private_space_is_refused_at_delivery_and_recorded__SUBJ_4(
    desk, settings, clock
):
    """A registered name whose DNS answer is private (or has one private answer among public
    ones) gets no connection: each attempt is recorded as refused, naming the address.
    """
    answers = {"callback.test": ["10.0.0.7"], "mixed.test": ["93.184.216.34", "127.0.0.1"]}
    app = _app(desk, settings, clock, resolve=lambda host, _port: answers[host])
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        client = Client(http, desk.issued["alice"], DOMAIN)
        client.discovery()
        urls = ["https://callback.test/hook", "https://mixed.test/hook"]
        assert _register(api, *urls).status_code == 200
        code, answer = client.submit(client.request_body("access", "n@example.com", urls))
        assert code == 201, answer
        assert app.state.opengdpr.idle(30)
        attempts = _attempts(api, answer["subject_request_id"])
    assert {(u, s) for u, s, _, _ in attempts} == {
        (u, s) for u in urls for s in ("pending", "in_progress", "completed")
    }
    assert not any(delivered for _, _, delivered, _ in attempts)
    errors = {u: e for u, _, _, e in attempts}
    assert "callback.test resolves to 10.0.0.7 (private)" in errors[urls[0]]
    assert "mixed.test resolves to 127.0.0.1 (loopback)" in errors[urls[1]]


class _Dead:
    """A callback endpoint that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/dead"

    def close(self) -> None:
        self.sock.close()


def test_a_dead_callback_url_does_not_delay_the_others__SUBJ_4(desk, settings, clock):
    """With a URL that never answers (2 s timeout, 2 attempts a status) listed first, the live
    URL still gets all three statuses within 4 s; with one queue it waited 8 s or more.
    """
    dead = _Dead()
    app = _app(desk, settings, clock, callback_allow=LOOPBACK)
    try:
        with TestClient(app, raise_server_exceptions=False) as http, CallbackServer() as hook:
            api = Api(desk, http)
            client = Client(http, desk.issued["alice"], DOMAIN)
            client.discovery()
            assert _register(api, dead.url, hook.url).status_code == 200
            started = time.monotonic()
            code, answer = client.submit(
                client.request_body("access", "n@example.com", [dead.url, hook.url])
            )
            assert code == 201, answer
            while len(hook.received) < 3 and time.monotonic() - started < 4:
                time.sleep(0.05)
            assert hook.statuses(client) == ["pending", "in_progress", "completed"]
            dead_done = [
                a for a in _attempts(api, answer["subject_request_id"]) if a[0] == dead.url
            ]
            assert len(dead_done) < 6
    finally:
        dead.close()


def test_a_full_queue_drops_the_callback_and_records_it__SUBJ_4(desk, settings, clock):
    """One place per URL: callbacks beyond it are dropped, each recorded as an attempt."""
    dead = _Dead()
    app = _app(desk, settings, clock, callback_allow=LOOPBACK, callback_queue=1)
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            api = Api(desk, http)
            client = Client(http, desk.issued["alice"], DOMAIN)
            client.discovery()
            assert _register(api, dead.url).status_code == 200
            _, answer = client.submit(client.request_body("access", "n@example.com", [dead.url]))
            srid = answer["subject_request_id"]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any(e.startswith("dropped: 1 callbacks") for *_, e in _attempts(api, srid)):
                    break
                time.sleep(0.05)
            else:
                pytest.fail(f"nothing dropped: {_attempts(api, srid)}")
    finally:
        dead.close()


def test_bad_allowance_is_a_configuration_error():
    """PROCESSOR_CALLBACK_ALLOW takes address ranges only."""
    assert [str(n) for n in parse_allow("127.0.0.0/8, ::1")] == ["127.0.0.0/8", "::1/128"]
    with pytest.raises(ConfigurationError, match="not an address range"):
        parse_allow("127.0.0.0/8,intranet")


# -- the pinned connection ------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers 204 (or a redirect to `redirect`), recording the Host header of each request."""

    hosts: list[str]
    redirect: str | None = None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.hosts.append(self.headers["Host"])
        if self.redirect:
            self.send_response(302)
            self.send_header("Location", self.redirect)
        else:
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def _serve(redirect: str | None = None, context: ssl.SSLContext | None = None):
    handler = type("H", (_Recorder,), {"hosts": [], "redirect": redirect})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler.hosts


def _certificate(tmp_path, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name` only (not for 127.0.0.1), as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return str(cert_file), str(key_file)


def test_the_connection_goes_to_the_checked_address_with_the_names_host__SUBJ_4():
    """A name that no DNS knows is reached at the pinned address, its Host header the name's."""
    server, hosts = _serve()
    try:
        port = server.server_address[1]
        r = pinned_post(f"http://callback.test:{port}/hook", "127.0.0.1", b"{}", {}, 5.0)
        assert r.status_code == 204
        assert hosts == [f"callback.test:{port}"]
    finally:
        server.shutdown()


def test_tls_to_the_pinned_address_checks_the_names_certificate__SUBJ_4(tmp_path):
    """Over https the name is the SNI and the name the certificate is checked against: a
    certificate for `callback.test` is accepted at 127.0.0.1, one for another name is not.
    """
    cert, key = _certificate(tmp_path, "callback.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server, hosts = _serve(context=context)
    try:
        port = server.server_address[1]
        trust = ssl.create_default_context(cafile=cert)
        r = pinned_post(f"https://callback.test:{port}/h", "127.0.0.1", b"{}", {}, 5.0, trust)
        assert r.status_code == 204
        assert hosts == [f"callback.test:{port}"]
        with pytest.raises(Exception, match="(?i)certificate|hostname"):
            pinned_post(f"https://other.test:{port}/h", "127.0.0.1", b"{}", {}, 5.0, trust)
    finally:
        server.shutdown()


def test_redirects_are_not_followed__SUBJ_4():
    """A 302 to an internal address is the answer; the redirect target gets nothing."""
    inner, inner_hosts = _serve()
    outer, _ = _serve(redirect=f"http://127.0.0.1:{inner.server_address[1]}/admin")
    try:
        r = pinned_post(f"http://callback.test:{outer.server_address[1]}/h", "127.0.0.1",
                        b"{}", {}, 5.0)  # fmt: skip
        assert r.status_code == 302
        assert inner_hosts == []
    finally:
        inner.shutdown()
        outer.shutdown()


def test_loopback_allowance_covers_ipv4_mapped_loopback():
    """Allowing 127.0.0.0/8 allows ::ffff:127.0.0.1 too, and nothing private."""
    rule = Destinations(parse_allow("127.0.0.0/8"))
    assert rule.refusal("::ffff:127.0.0.1") is None
    assert rule.refusal("::ffff:10.0.0.1") == "::ffff:10.0.0.1 (IPv4-mapped private)"


def test_the_dispatcher_connects_to_the_pinned_address__SUBJ_4(desk, settings, clock, tmp_path):
    """End to end: a name only the resolver knows is reached at its checked address, with the
    name as TLS server name (the self-signed certificate is then rightly not trusted).
    """
    cert, key = _certificate(tmp_path, "pinned.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    server, _ = _serve(context=context)
    url = f"https://pinned.test:{server.server_address[1]}/hook"
    app = _app(desk, settings, clock, callback_allow=LOOPBACK,
               resolve=lambda _host, _port: ["127.0.0.1"])  # fmt: skip
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            api = Api(desk, http)
            client = Client(http, desk.issued["alice"], DOMAIN)
            client.discovery()
            assert _register(api, url).status_code == 200
            _, answer = client.submit(client.request_body("access", "n@example.com", [url]))
            assert app.state.opengdpr.idle(30)
            attempts = _attempts(api, answer["subject_request_id"])
        assert "pinned.test" in names
        assert attempts and all(e == "ConnectError" for *_, e in attempts), attempts
    finally:
        server.shutdown()


def test_a_url_allowed_at_registration_is_refused_at_submission_once_disallowed__SUBJ_4(
    desk, settings, clock
):
    """A loopback URL registered while the operator allowed loopback is refused (400, nothing
    recorded) when a request names it after the allowance is gone.
    """
    url = "http://127.0.0.1:9/hook"
    with TestClient(_app(desk, settings, clock, callback_allow=LOOPBACK)) as http:
        assert _register(Api(desk, http), url).status_code == 200
    app = _app(desk, settings, clock)
    with TestClient(app, raise_server_exceptions=False) as http:
        api = Api(desk, http)
        client = Client(http, desk.issued["alice"], DOMAIN)
        client.discovery()
        body = client.request_body("access", "n@example.com", [url])
        code, problem = client.submit(body)
        assert code == 400, problem
        assert problem["detail"].startswith("callback URL refused: 127.0.0.1 (loopback)")
        assert list(api.proc.store.events.get(request_id("acme", body["subject_request_id"]))) == []
