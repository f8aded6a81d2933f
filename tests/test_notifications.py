"""Staff are told by e-mail: a task arrived for their role, it is due on the next working day, it is due today."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.adapters.transports import SmtpTransport
from service.application.cases import complete_task
from service.application.demo import ensure_demo_accounts
from service.application.notifications import notify_staff
from service.application.outbox import deliver_outbox
from service.bootstrap import Services
from service.cli import _work_once
from service.domain.calendar import WorkingCalendar
from service.domain.errors import InvalidInput
from service.domain.model import OutboxItem
from service.domain.notifications import digest_due, normalise_email, reminder
from service.domain.time import ALMATY
from service.web import create_app

from .support import at, shipped_services
from .test_metrics import _case

RECEIVED = at("2026-03-20T17:00+05:00")  # _case's application: the head's task is created at this instant
EVERY = timedelta(seconds=60)
BASE = "https://homeschool.example.kz"


@pytest.fixture
def product(tmp_path: Path, database_url: str) -> Iterator[Services]:
    """The shipped product with the demo accounts (their addresses are <login>@demo.invalid)."""
    services = shipped_services(tmp_path, database_url)
    with services.uow() as uow:
        ensure_demo_accounts(uow, RECEIVED)
    yield services
    services.database.dispose()


def _mails(product: Services) -> list[OutboxItem]:
    with product.uow(write=False) as uow:
        return sorted((m for m in uow.outbox.listing(pending_only=False, limit=10_000) if m.channel == "mail"),
                      key=lambda m: m.id)


def _pass(product: Services, now: datetime) -> None:
    notify_staff(product.write_uow, product.calendar, now, BASE, EVERY)


def _previous_working_day(calendar: WorkingCalendar, day: date) -> date:
    day -= timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def _due(product: Services) -> datetime:
    with product.uow(write=False) as uow:
        due = [t.due_at for t in uow.notifications.tasks_due(RECEIVED, RECEIVED + timedelta(days=30), 10)]
    assert len(due) == 1 and due[0] is not None
    return due[0]


def test_the_head_of_the_school_is_told_of_a_new_task_and_nobody_elsewhere(product: Services) -> None:
    _case(product, "APP-1")
    _pass(product, RECEIVED + timedelta(minutes=5))
    mails = _mails(product)
    assert [m.payload["to"] for m in mails] == ["head@demo.invalid"]  # not head112@, the head of another school
    body = mails[0].payload["body"]
    assert "APP-1: Определить класс и язык обучения" in body
    assert "Новые задачи:" in body and "Сәрсенбаева Гүлнұр Қайратқызы" in body
    assert f"{BASE}/tasks/" in body and f"{BASE}/me/notifications" in body
    assert mails[0].payload["subject"] == "Обучение на дому: ваши задачи (1)"
    # The e-mail leaves the protected perimeter: no child, no parent, no IIN, no medical fact.
    for secret in ("Ахметов Нұрлан", "Ахметова Айгүл", "ВКК-17", "2015"):
        assert secret not in body


def test_nobody_is_told_twice_and_a_pass_waits_for_its_interval(product: Services) -> None:
    _case(product, "APP-1")
    first = RECEIVED + timedelta(minutes=5)
    _pass(product, first)
    assert notify_staff(product.write_uow, product.calendar, first + timedelta(seconds=30), BASE, EVERY) is None
    _pass(product, first + timedelta(minutes=2))
    _pass(product, first + timedelta(hours=3))
    assert len(_mails(product)) == 1


def test_reminders_one_working_day_before_and_on_the_day_it_falls_due(product: Services) -> None:
    _case(product, "APP-1")
    _pass(product, RECEIVED + timedelta(minutes=5))
    due = _due(product)
    eve = _previous_working_day(product.calendar, due.astimezone(ALMATY).date())
    before_eve = _previous_working_day(product.calendar, eve)
    _pass(product, datetime.combine(before_eve, datetime.min.time(), ALMATY).replace(hour=10))
    assert len(_mails(product)) == 1  # two working days before: nothing yet
    _pass(product, datetime.combine(eve, datetime.min.time(), ALMATY).replace(hour=10))
    _pass(product, datetime.combine(due.date(), datetime.min.time(), ALMATY).replace(hour=10))
    _pass(product, due + timedelta(hours=20))  # the day after: already told
    mails = _mails(product)
    assert len(mails) == 3
    assert "Срок истекает в следующий рабочий день:" in mails[1].payload["body"]
    assert "Срок истекает сегодня или уже истек:" in mails[2].payload["body"]
    assert "27 марта 2026" in mails[2].payload["body"]  # the due date, Almaty time


def test_a_person_who_turned_notifications_off_or_gave_no_address_gets_nothing(product: Services) -> None:
    with product.uow() as uow:
        head = uow.staff.by_login("head")
        assert head is not None and head[0].id is not None
        uow.notifications.change_settings(head[0].id, "head@demo.invalid", "off")
        uow.commit()
    _case(product, "APP-1")
    _pass(product, RECEIVED + timedelta(minutes=5))
    assert _mails(product) == []


def test_a_task_done_before_the_digest_goes_is_not_announced(product: Services) -> None:
    with product.uow() as uow:
        found = uow.staff.by_login("head")
        assert found is not None and found[0].id is not None
        head = found[0]
        uow.notifications.change_settings(head.id, "head@demo.invalid", "hourly")
        uow.notifications.note_digest(head.id, RECEIVED)  # a digest went at 17:00: the next one not before 18:00
        uow.commit()
    _case(product, "APP-1")
    _pass(product, RECEIVED + timedelta(minutes=5))
    assert _mails(product) == []  # noticed, waiting for the hour
    with product.uow() as uow:
        task = uow.notifications.tasks_created(RECEIVED - timedelta(hours=1), RECEIVED, 10)[0]
        complete_task(uow, product.runtime, actor=head, task_id=task.task_id,
                      data={"head_decision": "determine", "grade": 5, "language": "kk"},
                      now=RECEIVED + timedelta(minutes=20))
    _pass(product, RECEIVED + timedelta(hours=1, minutes=1))
    bodies = [m.payload["body"] for m in _mails(product)]
    assert all("Определить класс и язык обучения" not in body for body in bodies)


def test_the_worker_spools_the_mail(product: Services) -> None:
    _case(product, "APP-1")
    product.now = lambda: RECEIVED + timedelta(minutes=5)  # type: ignore[method-assign]
    _work_once(product)
    spool = product.settings.instance_dir / "outbox" / "mail"
    files = list(spool.glob("*.json"))
    assert len(files) == 1
    written = json.loads(files[0].read_text(encoding="utf-8"))
    assert written["payload"]["to"] == "head@demo.invalid"
    assert "APP-1" in written["payload"]["body"]


def test_the_worker_names_the_task_in_the_language_the_head_reads(product: Services) -> None:
    with product.uow() as uow:
        found = uow.staff.by_login("head")
        assert found is not None and found[0].id is not None
        uow.staff.set_language(found[0].id, "kk")
        uow.commit()
    _case(product, "APP-1")
    product.now = lambda: RECEIVED + timedelta(minutes=5)  # type: ignore[method-assign]
    _work_once(product)
    [mail] = _mails(product)
    body = mail.payload["body"]
    assert "APP-1: Оқыту сыныбы мен тілін анықтау" in body  # the names file's Kazakh, not the diagram's Russian
    assert "Определить класс и язык обучения" not in body


# --- the rules, without a database -----------------------------------------------------------


def test_digest_frequencies() -> None:
    nine = at("2026-04-01T09:00+05:00")
    assert digest_due("immediate", nine, nine)
    assert not digest_due("off", None, nine)
    assert not digest_due("hourly", nine, nine + timedelta(minutes=59))
    assert digest_due("hourly", nine, nine + timedelta(minutes=60))
    assert not digest_due("daily", None, nine - timedelta(minutes=1))
    assert digest_due("daily", None, nine)
    assert not digest_due("daily", nine, nine + timedelta(hours=8))
    assert digest_due("daily", nine, nine + timedelta(days=1))


def test_reminders_count_working_days() -> None:
    calendar = WorkingCalendar()
    due = at("2026-04-06T18:30+05:00")  # a Monday
    assert reminder(calendar, due, at("2026-04-02T10:00+05:00")) is None  # Thursday: two working days before
    assert reminder(calendar, due, at("2026-04-03T10:00+05:00")) == "due_tomorrow"  # Friday, over the weekend
    assert reminder(calendar, due, at("2026-04-06T08:00+05:00")) == "due_today"
    assert reminder(calendar, due, at("2026-04-07T08:00+05:00")) == "due_today"  # overdue: still told once
    assert reminder(calendar, None, at("2026-04-06T08:00+05:00")) is None


@pytest.mark.parametrize("bad", ["head", "head@", "@school.kz", "a b@school.kz", "x@localhost", "<x@y.kz>"])
def test_addresses_are_checked(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_email(bad)
    assert normalise_email("  head@school25.edu.kz ") == "head@school25.edu.kz"
    assert normalise_email("") is None


# --- SMTP ---------------------------------------------------------------------------------------


class _Relay(threading.Thread):
    """A one-connection SMTP relay on loopback that keeps what it was given."""

    def __init__(self, refuse: bool = False) -> None:
        super().__init__(daemon=True)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.refuse = refuse
        self.envelope: list[str] = []
        self.data = b""

    def run(self) -> None:
        connection, _ = self.server.accept()
        with connection, connection.makefile("rwb") as stream:
            def say(line: str) -> None:
                stream.write(line.encode() + b"\r\n")
                stream.flush()
            say("220 relay ready")
            while line := stream.readline():
                command = line.decode().strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 relay")
                elif verb in ("MAIL", "RCPT"):
                    self.envelope.append(verb + command[len(verb):])
                    say("550 no such user" if self.refuse and verb == "RCPT" else "250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    while (chunk := stream.readline()) != b".\r\n":
                        self.data += chunk
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    break
                else:
                    say("250 ok")
        self.server.close()


def _item() -> OutboxItem:
    return OutboxItem(id=7, channel="mail", message_name="mail.task_digest", idempotency_key="mail:2:2026",
                      instance_id=None, business_key=None, attempts=0,
                      payload={"to": "head@school25.edu.kz", "subject": "Обучение на дому: ваши задачи (1)",
                               "body": "Здравствуйте!\nAPP-1: Определить класс и язык обучения\n"})


def test_smtp_transport_hands_the_mail_to_the_relay() -> None:
    relay = _Relay()
    relay.start()
    delivered = SmtpTransport(f"smtp://127.0.0.1:{relay.port}", "homeschool@school25.edu.kz").send(_item())
    relay.join(5)
    assert delivered.startswith(f"smtp://127.0.0.1:{relay.port}/")
    assert relay.envelope == ["MAIL FROM:<homeschool@school25.edu.kz>", "RCPT TO:<head@school25.edu.kz>"]
    text = relay.data.decode()
    assert "To: head@school25.edu.kz" in text and "Subject: =?utf-8?" in text


def test_smtp_refusal_is_a_failed_attempt_kept_for_retry(product: Services) -> None:
    from service.application.outbox import DeliveryFailed

    relay = _Relay(refuse=True)
    relay.start()
    with pytest.raises(DeliveryFailed, match="550"):
        SmtpTransport(f"smtp://127.0.0.1:{relay.port}", "homeschool@localhost").send(_item())
    relay.join(5)


def test_mail_in_the_outbox_goes_through_the_configured_transport(product: Services) -> None:
    _case(product, "APP-1")
    _pass(product, RECEIVED + timedelta(minutes=5))
    relay = _Relay()
    relay.start()
    transports = {"mail": SmtpTransport(f"smtp://127.0.0.1:{relay.port}", "homeschool@localhost")}
    report = deliver_outbox(product.write_uow, transports, now=RECEIVED + timedelta(minutes=6))
    relay.join(5)
    assert len(report.delivered) == 1
    assert "RCPT TO:<head@demo.invalid>" in relay.envelope
    assert [m.delivered_at is not None for m in _mails(product)] == [True]


# --- the personal settings page ---------------------------------------------------------------------


def _signed_in(product: Services, login: str, password: str) -> FlaskClient:
    client = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    assert client.post("/login", data={"login": login, "password": password}).status_code == 302
    return client


def test_a_person_sets_their_own_address_and_frequency(product: Services) -> None:
    client = _signed_in(product, "specialist", "specialist-demo-2026")
    page = client.get("/me/notifications").get_data(as_text=True)
    assert 'value="specialist@demo.invalid"' in page
    answer = client.post("/me/notifications", data={"email": "ivanova@school25.edu.kz", "frequency": "daily"})
    assert answer.status_code == 302
    with product.uow(write=False) as uow:
        found = uow.staff.by_login("specialist")
        assert found is not None and found[0].id is not None
        assert uow.notifications.settings_of(found[0].id) == ("ivanova@school25.edu.kz", "daily")


def test_a_wrong_address_is_refused_and_what_was_typed_is_kept(product: Services) -> None:
    client = _signed_in(product, "specialist", "specialist-demo-2026")
    answer = client.post("/me/notifications", data={"email": "ivanova at school", "frequency": "hourly"})
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "это не адрес электронной почты" in page and 'value="ivanova at school"' in page
    with product.uow(write=False) as uow:
        found = uow.staff.by_login("specialist")
        assert found is not None and found[0].id is not None
        assert uow.notifications.settings_of(found[0].id) == ("specialist@demo.invalid", "immediate")


def test_settings_need_a_signed_in_person(product: Services) -> None:
    client = create_app(product.settings, product, WTF_CSRF_ENABLED=False, TESTING=True).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    answer = client.post("/me/notifications", data={"email": "x@school.kz", "frequency": "off"})
    assert answer.status_code in (302, 401)
    assert "/login" in answer.headers.get("Location", "/login")
