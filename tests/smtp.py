"""A real SMTP server in the test process (aiosmtpd) that keeps what it receives, and Django's
SMTP backend pointed at it: the `smtp` fixture (tests/conftest.py makes it available to every test)."""

import email
import email.policy
import socket
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Received:
    to: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return " ".join(str(self.message["Subject"]).split())  # unfolded

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def part(self, content_type: str) -> str:
        found = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        return found.get_content() if found is not None else ""

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")


class KeepingHandler:
    """Keeps every message; refuses them all (a 451, as a server that cannot take mail now) while `refusing`."""

    def __init__(self):
        self.received: list[Received] = []
        self.refusing = False

    async def handle_DATA(self, server, session, envelope):
        if self.refusing:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(to=list(envelope.rcpt_tos), message=message))
        return "250 OK"

    def to(self, address: str) -> list[Received]:
        return [item for item in self.received if address in item.to]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    def __init__(self):
        self.handler = KeepingHandler()
        self.port = _free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp(settings):
    """The server, started; the EMAIL_* settings point at it."""
    server = SmtpServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Dashboard <noreply@example.com>"
    yield server
    server.stop()
