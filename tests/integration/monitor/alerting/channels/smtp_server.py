"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it accepts."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Mailbox:
    """The handler: records envelopes; optional scripted refusals."""

    rcpt_reply: str | None = None
    data_reply: str | None = None
    messages: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.messages.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        self.logins.append((login, password))
        if (login, password) == ("driftline", "s3cr3t"):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)  # unhandled: aiosmtpd answers 535


@contextmanager
def smtp_server(mailbox: Mailbox, *, tls_context: ssl.SSLContext | None = None) -> Iterator[int]:
    """Serve ``mailbox`` on 127.0.0.1 in a thread; yields the port."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    ports: list[int] = []

    def factory() -> SMTP:
        return SMTP(
            mailbox,
            hostname="smtp.pinned.test",
            tls_context=tls_context,
            require_starttls=tls_context is not None,
            authenticator=mailbox.authenticate,
            loop=loop,
        )

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", 0))
        ports.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(5), "the SMTP server did not start within 5 s"
    try:
        yield ports[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
