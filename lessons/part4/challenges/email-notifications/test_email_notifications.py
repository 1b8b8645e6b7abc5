"""Challenge: email notifications.

The unit tests replace `smtplib.SMTP` with a fake that keeps what it is given.
The integration tests start a real SMTP server (aiosmtpd) on this machine and
check what arrives there after a task is created through the API.
"""

import asyncio
import email
import importlib
import logging
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import pytest

SENDER = "tasks@example.com"
DOMAIN = "example.org"


# ---- helpers -----------------------------------------------------------


def email_notifier_class() -> type:
    """app.notifications.EmailNotifier, or a failure that says it is missing."""
    notifications = importlib.import_module("app.notifications")
    if not hasattr(notifications, "EmailNotifier"):
        pytest.fail("app/notifications.py has no EmailNotifier class yet")
    return notifications.EmailNotifier


def make_notifier(host: str = "mail.example.org", port: int = 2525):
    return email_notifier_class()(host=host, port=port, sender=SENDER, domain=DOMAIN)


def configure(monkeypatch: pytest.MonkeyPatch, **values: object) -> None:
    """Change fields of the app's settings for this test only (monkeypatch undoes it)."""
    from app.config import get_settings

    settings = get_settings()
    for name, value in values.items():
        if name not in type(settings).model_fields:
            pytest.fail(f"app/config.py: Settings has no `{name}` field yet")
        monkeypatch.setattr(settings, name, value)


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no plain-text body"
    return part.get_content().replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mail:
    """One email: who it was sent from and to (the envelope), and the message."""

    sender: str
    recipients: list[str]
    message: EmailMessage


# ---- a fake smtplib.SMTP -------------------------------------------------


@dataclass
class Connection:
    host: str
    port: int
    thread: threading.Thread


class Outbox:
    """What the fake SMTP class was asked to do."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.mails: list[Mail] = []


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Outbox:
    """Replace smtplib.SMTP with a fake that keeps the mail instead of sending it."""
    outbox = Outbox()

    class FakeSMTP:
        def __init__(self, host: str = "", port: int = 0, *args: object, **kwargs: object) -> None:
            outbox.connections.append(Connection(host, port, threading.current_thread()))

        def __enter__(self) -> "FakeSMTP":
            return self

        def __exit__(self, *exc_info: object) -> None:
            return None

        def connect(self, host: str = "localhost", port: int = 0, *args: object, **kwargs: object):
            outbox.connections.append(Connection(host, port, threading.current_thread()))
            return 220, b"ready"

        def send_message(self, msg, from_addr=None, to_addrs=None, *args: object, **kwargs: object):
            message = parse(msg.as_bytes())
            if to_addrs is None:
                fields = [value for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
                to_addrs = [address for _, address in getaddresses(fields)]
            sender = from_addr or parseaddr(message["From"] or "")[1]
            self.sendmail(sender, to_addrs, msg.as_bytes())
            return {}

        def sendmail(self, from_addr, to_addrs, msg, *args: object, **kwargs: object):
            if isinstance(msg, str):
                msg = msg.encode("ascii")  # what smtplib does with text, too
            recipients = [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)
            outbox.mails.append(Mail(from_addr, recipients, parse(msg)))
            return {}

        def __getattr__(self, name: str):
            # ehlo, starttls, login, quit, close...: nothing to do for a fake.
            return lambda *args, **kwargs: (250, b"ok")

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return outbox


def the_one_mail(outbox: Outbox) -> Mail:
    assert len(outbox.mails) == 1, f"expected one email to be sent, got {len(outbox.mails)}"
    return outbox.mails[0]


# ---- a real SMTP server on this machine ----------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps every message the server receives."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), parse(envelope.content)))
        return "250 Message accepted for delivery"

    def wait_for_mail(self, seconds: float = 5.0) -> Mail:
        deadline = time.monotonic() + seconds
        while not self.mails and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.mails, (
            "no email reached the SMTP server "
            "(is a failure logged as 'Notification for task ... failed'?)"
        )
        assert len(self.mails) == 1, f"expected one email, the server received {len(self.mails)}"
        return self.mails[0]


@dataclass
class MailServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
def mail_server():
    """A real SMTP server on 127.0.0.1, running for this test only."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield MailServer(controller.port, mailbox)
    finally:
        controller.stop()


@pytest.fixture
def app_picks_its_notifier(client, monkeypatch, tmp_path):
    """The `client` fixture, but the app picks its notifier itself, from the settings."""
    from app.main import app
    from app.notifications import get_notifier

    # If the file notifier is picked after all, it writes here, not in the lesson folder.
    configure(monkeypatch, notifications_log=tmp_path / "notifications.log")
    app.dependency_overrides.pop(get_notifier, None)


def send_email_through(port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set the app's SMTP settings: the server on 127.0.0.1:port, our sender and domain."""
    configure(
        monkeypatch,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_sender=SENDER,
        notify_email_domain=DOMAIN,
    )


# ---- unit tests: EmailNotifier with a fake SMTP client -------------------


@pytest.mark.points(1, hint="Open the connection with smtplib.SMTP(host, port).")
def test_email_goes_to_the_configured_server(outbox):
    """EmailNotifier connects to the SMTP host and port it was given, and sends one email."""
    notifier = make_notifier(host="mail.example.org", port=2525)

    asyncio.run(notifier.notify("alice", "Task created: Buy milk"))

    assert outbox.connections, "smtplib.SMTP was never used"
    assert (outbox.connections[0].host, outbox.connections[0].port) == ("mail.example.org", 2525)
    the_one_mail(outbox)


@pytest.mark.points(2, hint="Set the From and To headers of an email.message.EmailMessage.")
def test_email_is_from_the_sender_to_the_user(outbox):
    """The email comes from the configured sender and goes to {username}@{domain}, and to nobody else."""
    notifier = make_notifier()

    asyncio.run(notifier.notify("alice", "Task created: Buy milk"))

    mail = the_one_mail(outbox)
    assert parseaddr(mail.message["From"])[1] == SENDER
    assert parseaddr(mail.message["To"])[1] == "alice@example.org"
    assert mail.sender == SENDER
    assert mail.recipients == ["alice@example.org"]


@pytest.mark.points(2)
def test_email_subject_and_body_carry_the_message(outbox):
    """The subject of the email is the message itself, and its plain-text body contains it."""
    notifier = make_notifier()

    asyncio.run(notifier.notify("alice", "Task created: Buy milk"))

    mail = the_one_mail(outbox)
    assert mail.message["Subject"] == "Task created: Buy milk"
    assert "Task created: Buy milk" in body_of(mail.message)


@pytest.mark.points(1, hint="await asyncio.to_thread(a_function_that_uses_smtplib, ...)")
def test_email_is_sent_from_a_worker_thread(outbox):
    """smtplib, which blocks while it waits for the server, runs on a worker thread, not on the event loop."""
    notifier = make_notifier()
    event_loop_thread = threading.current_thread()  # asyncio.run runs the loop right here

    asyncio.run(notifier.notify("alice", "Task created: Buy milk"))

    assert outbox.connections, "smtplib.SMTP was never used"
    assert outbox.connections[0].thread is not event_loop_thread, (
        "smtplib.SMTP was used on the event loop's own thread"
    )


# ---- settings and choosing a notifier ------------------------------------


@pytest.mark.points(1)
def test_settings_read_the_smtp_variables(monkeypatch):
    """Settings reads SMTP_HOST, SMTP_PORT, SMTP_SENDER and NOTIFY_EMAIL_DOMAIN from the environment."""
    from app.config import Settings

    if "smtp_host" not in Settings.model_fields:
        pytest.fail("app/config.py: Settings has no `smtp_host` field yet")
    monkeypatch.setenv("SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("SMTP_PORT", "2525")
    monkeypatch.setenv("SMTP_SENDER", "robot@example.org")
    monkeypatch.setenv("NOTIFY_EMAIL_DOMAIN", "users.example.org")

    settings = Settings(_env_file=None)

    assert settings.smtp_host == "mail.example.org"
    assert settings.smtp_port == 2525
    assert settings.smtp_sender == "robot@example.org"
    assert settings.notify_email_domain == "users.example.org"


@pytest.mark.points(2, hint="In get_notifier, look at get_settings().smtp_host.")
def test_get_notifier_chooses_email_only_when_smtp_host_is_set(outbox, monkeypatch, tmp_path):
    """get_notifier returns an EmailNotifier built from the settings when SMTP_HOST is set, and a FileNotifier when it is not."""
    from app.notifications import FileNotifier, get_notifier

    EmailNotifier = email_notifier_class()
    configure(
        monkeypatch,
        smtp_host="mail.example.org",
        smtp_port=2525,
        smtp_sender=SENDER,
        notify_email_domain=DOMAIN,
        notifications_log=tmp_path / "notifications.log",
    )

    notifier = get_notifier()
    assert isinstance(notifier, EmailNotifier)
    # Built from the settings: it sends where they say.
    asyncio.run(notifier.notify("bob", "Task created: Water the plants"))
    assert (outbox.connections[0].host, outbox.connections[0].port) == ("mail.example.org", 2525)
    mail = the_one_mail(outbox)
    assert (mail.sender, mail.recipients) == (SENDER, ["bob@example.org"])

    configure(monkeypatch, smtp_host=None)
    assert isinstance(get_notifier(), FileNotifier)


# ---- integration: a real SMTP server --------------------------------------


@pytest.mark.points(3)
def test_creating_a_task_emails_its_owner(
    app_picks_its_notifier, mail_server, client, auth_headers, monkeypatch
):
    """With SMTP_HOST set, creating a task delivers an email about it to a real SMTP server."""
    send_email_through(mail_server.port, monkeypatch)

    response = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers)
    assert response.status_code == 201

    mail = mail_server.mailbox.wait_for_mail()
    assert mail.sender == SENDER
    assert mail.recipients == ["alice@example.org"]
    assert parseaddr(mail.message["To"])[1] == "alice@example.org"
    assert mail.message["Subject"] == "Task created: Buy milk"
    assert "Task created: Buy milk" in body_of(mail.message)


@pytest.mark.points(
    1,
    hint="smtplib only sends plain ASCII text as it is: build the email with email.message.EmailMessage and send it with send_message().",
)
def test_a_title_with_accents_and_emoji_arrives_intact(
    app_picks_its_notifier, mail_server, client, auth_headers, monkeypatch
):
    """A task title such as "Café ☕ with Zoë" arrives unchanged in the subject and body of the email."""
    send_email_through(mail_server.port, monkeypatch)

    response = client.post("/tasks/", json={"title": "Café ☕ with Zoë"}, headers=auth_headers)
    assert response.status_code == 201

    mail = mail_server.mailbox.wait_for_mail()
    assert mail.message["Subject"] == "Task created: Café ☕ with Zoë"
    assert "Task created: Café ☕ with Zoë" in body_of(mail.message)


@pytest.mark.points(1, hint="Connect to the server inside notify(), not when the notifier is made.")
def test_an_unreachable_mail_server_does_not_break_the_api(
    app_picks_its_notifier, client, auth_headers, monkeypatch, caplog
):
    """When the mail server cannot be reached, creating a task still answers 201 and the failure is logged."""
    send_email_through(free_port(), monkeypatch)  # nothing listens on that port

    with caplog.at_level(logging.ERROR):
        response = client.post("/tasks/", json={"title": "Buy milk"}, headers=auth_headers)

    assert response.status_code == 201
    assert client.get("/tasks/", headers=auth_headers).json()[0]["title"] == "Buy milk"
    assert any(record.levelno >= logging.ERROR for record in caplog.records), "the failure was not logged"
