"""Settings: every one has a default, an environment variable, and a line in the README.

Read once at start-up from the environment (``Settings.from_env``); nothing else in the
product reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from limits import parse_many

from service.domain.errors import InvalidInput
from service.domain.outbox import OUTBOX_CHANNELS
from service.domain.package import (
    DEFAULT_OFFICE_DOCUMENTS,
    DEFAULT_PORTAL_DOCUMENTS,
    DEFAULT_PROACTIVE_DOCUMENTS,
    document_kinds,
)
from service.domain.schooling import DEFAULT_INSTRUCTION_LANGUAGES, instruction_languages
from service.persistence.database import driver_url

_PREFIX = "HOMESCHOOL_"


@dataclass(frozen=True)
class Setting:
    """Documentation of one setting: its variable, default and meaning."""

    variable: str
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", "sqlite:///<instance dir>/homeschool.sqlite3",
            "SQLAlchemy URL; PostgreSQL e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    Setting("HOMESCHOOL_MIGRATION_DATABASE_URL", "(DATABASE_URL)",
            "URL 'homeschool db upgrade' connects with: the role that owns the tables, while the service runs "
            "as a role that does not (so it cannot TRUNCATE the event log or disable its triggers; README)"),
    Setting("HOMESCHOOL_INSTANCE_DIR", "./instance", "Folder for the embedded database and spooled outbox files"),
    Setting("HOMESCHOOL_PROCESSES_DIR", "./processes", "BPMN diagrams loaded at start-up"),
    Setting("HOMESCHOOL_FORMS_DIR", "./forms", "JSON Schema forms, forms/<process_id>/<task_id>.schema.json"),
    Setting("HOMESCHOOL_CALENDAR_OVERRIDES", "./config/calendar-overrides.toml",
            "Operator-edited extra days off / extra working days (read at start-up)"),
    Setting("HOMESCHOOL_PROVIDER_FILE", "./config/provider.toml",
            "Only when upgrading an installation that served one school: 'homeschool db upgrade' makes the "
            "school in this file the first organisation, owning the existing staff and cases"),
    Setting("HOMESCHOOL_DEMO_REGISTRY", "./config/demo-organisations.csv",
            "The demo registry of organisations imported with the demo staff (when HOMESCHOOL_DEMO_USERS is on)"),
    Setting("HOMESCHOOL_FEATURES_DIR", "./features", "Gherkin features read by 'homeschool trace'"),
    Setting("HOMESCHOOL_NODE_MODULES_DIR", "./node_modules",
            "Front-end libraries installed by 'make setup' (npm ci from package-lock.json): bpmn-js, served by "
            "the app under /vendor/, and bpmnlint, run by 'homeschool validate'"),
    Setting("HOMESCHOOL_RULES_FILE", "./docs/regulation/rules.kk.txt",
            "The Kazakh text of the Rules quoted in the legal team's document ('homeschool trace --html', /legal)"),
    Setting("HOMESCHOOL_FEATURE_REPORT", "./reports/cucumber.json",
            "Cucumber JSON report of the last feature run, whose results the legal team's page shows"),
    Setting("HOMESCHOOL_PROACTIVE_SILENCE_IS_REFUSAL", "true",
            "§7-1: no answer within 24 hours closes the offer as not consented (the law is silent; "
            "'false' sends the office clerk to contact the parent instead)"),
    Setting("HOMESCHOOL_PROACTIVE_DELIVERY_WAIT_HOURS", "24",
            "§7-1: how long an offer waits for the SMS gateway to confirm its SMS reached the phone (the 24 hours "
            "count from that delivery); past it, the office clerk gets a task — nothing is decided automatically"),
    Setting("HOMESCHOOL_SERVICE_PERIOD_WORKING_DAYS", "2",
            "Appendix 1: the service period in working days from the day the package is handed in (also "
            "proactively); the head's and specialist's tasks and the order are due then, a missed period is "
            "escalated to the head"),
    Setting("HOMESCHOOL_COMPLAINT_MAX_EXTENSION_DAYS", "10",
            "§9: the most working days a complaint's review period may be extended by (Law Art. 25 p.4)"),
    Setting("HOMESCHOOL_SCHOOL_AGE_MIN", "6", "Youngest age (full years) accepted for home schooling (grades 1–11)"),
    Setting("HOMESCHOOL_SCHOOL_AGE_MAX", "18", "Oldest age (full years) accepted for home schooling"),
    Setting("HOMESCHOOL_OFFICE_DOCUMENTS", ",".join(DEFAULT_OFFICE_DOCUMENTS),
            "§4, Appendix 1 (a setting): the documents an application at the office must include, comma-separated "
            "(application, vkk_conclusion, identity_document; 'none' for nothing). The identity document is shown "
            "and returned, and the receipt says so apart from the documents accepted"),
    Setting("HOMESCHOOL_PORTAL_DOCUMENTS", ",".join(DEFAULT_PORTAL_DOCUMENTS),
            "§5, Appendix 1 (a setting): the documents an electronic request must include; identity data come "
            "from state information systems and are never demanded"),
    Setting("HOMESCHOOL_PROACTIVE_DOCUMENTS", "none",
            "§2, §7-1: the documents a proactive case must include; none, as it runs without an application"),
    Setting("HOMESCHOOL_INSTRUCTION_LANGUAGES", ",".join(DEFAULT_INSTRUCTION_LANGUAGES),
            "§6: the languages of instruction the head may choose, comma-separated codes "
            "(kk Kazakh, ru Russian, uz Uzbek, ug Uyghur, tg Tajik, en English)"),
    Setting("HOMESCHOOL_MAX_ATTACHMENT_BYTES", "10485760",
            "Largest attachment accepted (PDF, JPEG or PNG); also the limit in the intake form"),
    Setting("HOMESCHOOL_SECRET_KEY", "generated once into <instance dir>/secret_key",
            "Signs session cookies and CSRF tokens; set the same value on every web process"),
    Setting("HOMESCHOOL_COOKIE_SECURE", "true",
            "Send the session cookie over HTTPS only (browsers also accept it on http://127.0.0.1)"),
    Setting("HOMESCHOOL_BIND", "127.0.0.1:5000", "Address 'homeschool serve' listens on"),
    Setting("HOMESCHOOL_SESSION_IDLE_HOURS", "8", "A signed-in session unused for longer than this is ended"),
    Setting("HOMESCHOOL_SIGN_IN_RATE_LIMIT", "10 per minute",
            "Sign-in attempts accepted from one client address (beyond: 429); e.g. '10 per minute;100 per day'"),
    Setting("HOMESCHOOL_API_RATE_LIMIT", "600 per minute", "Calls to /api/v1 accepted per API token (beyond: 429)"),
    Setting("HOMESCHOOL_RATE_LIMIT_STORAGE", "memory://",
            "Where rate-limit counters live; several web processes need a shared store, e.g. redis://127.0.0.1:6379"),
    Setting("HOMESCHOOL_DEMO_USERS", "true on the embedded SQLite default, else false",
            "Create the demo staff accounts at start-up and print how to sign in"),
    Setting("HOMESCHOOL_WORKING_HOURS", "09:00-18:30",
            "Provider's working hours (Appendix 1, a setting); "
            "a submission after closing counts from the next working day"),
    Setting("HOMESCHOOL_WORKER_POLL_SECONDS", "0.5", "How often an idle worker looks for due timers, inbox and outbox"),
    Setting("HOMESCHOOL_DEPLOYMENT_CHECK_SECONDS", "5",
            "How often each web process and worker looks for a newly deployed version ('homeschool deploy', the "
            "versions page): a new version is used by every process within this many seconds, without a restart"),
    Setting("HOMESCHOOL_PREDEPLOY_FEATURES", "(all)",
            "Which legal features the modeler runs on a candidate version before it goes live: a pytest -k "
            "expression over the scenarios' names; empty runs every feature"),
    Setting("HOMESCHOOL_TIMER_RETRY_SECONDS", "300", "Delay before retrying a timer whose case failed to run"),
    Setting("HOMESCHOOL_TIMER_SETTLE_SECONDS", "5",
            "The worker fires a timer this long after its due instant, so a message received before that instant "
            "and still on its way in is taken first (§7-1: an on-time reply wins over the 24-hour timer)"),
    Setting("HOMESCHOOL_SIGNING_KEY", "a demo key generated once into <instance dir>/signing/demo-signing-key.p12",
            "The installation's signing key and certificate (PKCS#12, .p12/.pfx): every issued PDF is signed "
            "with it (PAdES B-B). The generated demo certificate is self-signed and trusted by nobody"),
    Setting("HOMESCHOOL_SIGNING_KEY_PASSPHRASE", "(none)",
            "Passphrase of the signing key files (the installation's and the organisations' own)"),
    Setting("HOMESCHOOL_SIGNING_KEYS_DIR", "(none)",
            "Optional folder of organisations' own keys, <BIN>.p12: an organisation with a file here signs "
            "its documents with it, the others with HOMESCHOOL_SIGNING_KEY"),
    Setting("HOMESCHOOL_OUTBOX_RETRY_SECONDS", "30", "First outbox retry delay (doubles per failure, at most 1 hour)"),
    Setting("HOMESCHOOL_OUTBOX_STALE_HOURS", "24",
            "An outbox message still undelivered this long after it was queued is listed on the operations page"),
    Setting("HOMESCHOOL_INBOX_STALE_HOURS", "24",
            "An incoming message no case has taken this long after it arrived is listed on the operations page"),
    Setting("HOMESCHOOL_NOTIFY_SECONDS", "60",
            "How often the worker looks for tasks to tell staff about by e-mail (new tasks, due on the next "
            "working day, due today); each person's digest frequency is a personal setting"),
    Setting("HOMESCHOOL_PUBLIC_URL", "http://127.0.0.1:5000",
            "The address staff open the service at: the links in notification e-mails start with it"),
    Setting("HOMESCHOOL_MAIL_FROM", "homeschool@localhost",
            "Sender address of notification e-mails (with an smtp:// or smtps:// mail target)"),
    Setting("HOMESCHOOL_METRICS_TOKEN", "(none)",
            "Bearer token GET /metrics requires; without one, /metrics answers only requests from loopback"),
    *(
        Setting(f"HOMESCHOOL_OUTBOX_{channel.upper()}", f"spool:<instance dir>/outbox/{channel}",
                f"Where messages for {meaning} go: spool:DIR, an http(s) URL, or empty to hold them")
        for channel, meaning in OUTBOX_CHANNELS.items()
    ),
)


@dataclass(frozen=True)
class Settings:
    """The product's configuration, resolved."""

    database_url: str
    instance_dir: Path
    processes_dir: Path
    forms_dir: Path
    calendar_overrides: Path
    provider_file: Path
    demo_registry: Path = Path("config/demo-organisations.csv")
    features_dir: Path = Path("features")
    node_modules_dir: Path = Path("node_modules")
    rules_file: Path = Path("docs/regulation/rules.kk.txt")
    feature_report: Path = Path("reports/cucumber.json")
    proactive_silence_is_refusal: bool = True
    proactive_delivery_wait_hours: float = 24.0
    complaint_max_extension_days: int = 10
    service_period_working_days: int = 2
    school_age_min: int = 6
    school_age_max: int = 18
    max_attachment_bytes: int = 10 * 1024 * 1024
    office_documents: tuple[str, ...] = DEFAULT_OFFICE_DOCUMENTS
    portal_documents: tuple[str, ...] = DEFAULT_PORTAL_DOCUMENTS
    proactive_documents: tuple[str, ...] = DEFAULT_PROACTIVE_DOCUMENTS
    instruction_languages: tuple[str, ...] = DEFAULT_INSTRUCTION_LANGUAGES
    secret_key: str = ""
    cookie_secure: bool = True
    bind: str = "127.0.0.1:5000"
    session_idle_hours: float = 8.0
    sign_in_rate_limit: str = "10 per minute"
    api_rate_limit: str = "600 per minute"
    rate_limit_storage: str = "memory://"
    demo_users: bool = False
    working_hours: str = "09:00-18:30"
    worker_poll_seconds: float = 0.5
    notify_seconds: float = 60.0
    public_url: str = "http://127.0.0.1:5000"
    mail_from: str = "homeschool@localhost"
    timer_retry_seconds: float = 300.0
    deployment_check_seconds: float = 5.0
    predeploy_features: str = ""
    timer_settle_seconds: float = 5.0
    outbox_retry_seconds: float = 30.0
    outbox_stale_hours: float = 24.0
    inbox_stale_hours: float = 24.0
    metrics_token: str = ""
    signing_key: Path | None = None
    signing_key_passphrase: str = ""
    signing_keys_dir: Path | None = None
    outbox_targets: Mapping[str, str] = field(default_factory=dict)
    #: The URL migrations run with (the tables' owner); empty: the service's own DATABASE_URL.
    migration_database_url: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, base: Path | None = None) -> Settings:
        """Resolve every setting from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        root = base or Path.cwd()

        def path(name: str, default: str) -> Path:
            value = Path(env.get(_PREFIX + name) or default)
            return value if value.is_absolute() else root / value

        def optional_path(name: str) -> Path | None:
            return path(name, "") if env.get(_PREFIX + name) else None

        instance = path("INSTANCE_DIR", "instance")
        url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'homeschool.sqlite3'}"
        url = driver_url(url)  # a plain postgresql:// URL means the psycopg 3 driver we ship
        targets = {
            channel: env.get(f"{_PREFIX}OUTBOX_{channel.upper()}", f"spool:{instance / 'outbox' / channel}")
            for channel in OUTBOX_CHANNELS
        }
        return cls(
            database_url=url,
            migration_database_url=driver_url(env.get(_PREFIX + "MIGRATION_DATABASE_URL", "")),
            instance_dir=instance,
            processes_dir=path("PROCESSES_DIR", "processes"),
            forms_dir=path("FORMS_DIR", "forms"),
            calendar_overrides=path("CALENDAR_OVERRIDES", "config/calendar-overrides.toml"),
            provider_file=path("PROVIDER_FILE", "config/provider.toml"),
            demo_registry=path("DEMO_REGISTRY", "config/demo-organisations.csv"),
            features_dir=path("FEATURES_DIR", "features"),
            node_modules_dir=path("NODE_MODULES_DIR", "node_modules"),
            rules_file=path("RULES_FILE", "docs/regulation/rules.kk.txt"),
            feature_report=path("FEATURE_REPORT", "reports/cucumber.json"),
            proactive_silence_is_refusal=_flag(env, "PROACTIVE_SILENCE_IS_REFUSAL", True),
            proactive_delivery_wait_hours=_number(env, "PROACTIVE_DELIVERY_WAIT_HOURS", 24.0),
            complaint_max_extension_days=int(_number(env, "COMPLAINT_MAX_EXTENSION_DAYS", 10)),
            service_period_working_days=int(_number(env, "SERVICE_PERIOD_WORKING_DAYS", 2)),
            school_age_min=int(_number(env, "SCHOOL_AGE_MIN", 6)),
            school_age_max=int(_number(env, "SCHOOL_AGE_MAX", 18)),
            max_attachment_bytes=int(_number(env, "MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)),
            office_documents=_documents(env, "OFFICE_DOCUMENTS", DEFAULT_OFFICE_DOCUMENTS),
            portal_documents=_documents(env, "PORTAL_DOCUMENTS", DEFAULT_PORTAL_DOCUMENTS),
            proactive_documents=_documents(env, "PROACTIVE_DOCUMENTS", DEFAULT_PROACTIVE_DOCUMENTS),
            instruction_languages=_languages(env, "INSTRUCTION_LANGUAGES", DEFAULT_INSTRUCTION_LANGUAGES),
            secret_key=env.get(_PREFIX + "SECRET_KEY", ""),
            cookie_secure=_flag(env, "COOKIE_SECURE", True),
            bind=env.get(_PREFIX + "BIND") or "127.0.0.1:5000",
            session_idle_hours=_number(env, "SESSION_IDLE_HOURS", 8.0),
            sign_in_rate_limit=_limit(env, "SIGN_IN_RATE_LIMIT", "10 per minute"),
            api_rate_limit=_limit(env, "API_RATE_LIMIT", "600 per minute"),
            rate_limit_storage=env.get(_PREFIX + "RATE_LIMIT_STORAGE") or "memory://",
            demo_users=_flag(env, "DEMO_USERS", url.startswith("sqlite")),
            working_hours=env.get(_PREFIX + "WORKING_HOURS", "09:00-18:30"),
            worker_poll_seconds=_number(env, "WORKER_POLL_SECONDS", 0.5),
            notify_seconds=_number(env, "NOTIFY_SECONDS", 60.0),
            public_url=env.get(_PREFIX + "PUBLIC_URL") or "http://127.0.0.1:5000",
            mail_from=env.get(_PREFIX + "MAIL_FROM") or "homeschool@localhost",
            timer_retry_seconds=_number(env, "TIMER_RETRY_SECONDS", 300.0),
            deployment_check_seconds=_number(env, "DEPLOYMENT_CHECK_SECONDS", 5.0),
            predeploy_features=env.get(_PREFIX + "PREDEPLOY_FEATURES", "").strip(),
            timer_settle_seconds=_number(env, "TIMER_SETTLE_SECONDS", 5.0),
            outbox_retry_seconds=_number(env, "OUTBOX_RETRY_SECONDS", 30.0),
            outbox_stale_hours=_number(env, "OUTBOX_STALE_HOURS", 24.0),
            inbox_stale_hours=_number(env, "INBOX_STALE_HOURS", 24.0),
            metrics_token=env.get(_PREFIX + "METRICS_TOKEN", ""),
            signing_key=optional_path("SIGNING_KEY"),
            signing_key_passphrase=env.get(_PREFIX + "SIGNING_KEY_PASSPHRASE", ""),
            signing_keys_dir=optional_path("SIGNING_KEYS_DIR"),
            outbox_targets=targets,
        )

    def describe(self) -> list[tuple[str, str]]:
        """(name, value) pairs for ``homeschool config``; passwords (database, rate-limit store) are hidden."""
        pairs = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "secret_key":
                value = "***" if value else "(generated into the instance folder)"
            if item.name in ("signing_key_passphrase", "metrics_token"):
                value = "***" if value else "(none)"
            if item.name == "signing_key" and value is None:
                value = f"(demo key generated into {self.instance_dir / 'signing' / 'demo-signing-key.p12'})"
            if item.name == "signing_keys_dir" and value is None:
                value = "(none)"
            if item.name == "migration_database_url" and not value:
                value = "(DATABASE_URL)"
            secret_url = item.name in ("database_url", "migration_database_url")
            if secret_url and "@" in str(value) and ":" in str(value).split("@")[0][12:]:
                head, tail = str(value).split("@", 1)
                value = head.rsplit(":", 1)[0] + ":***@" + tail
            if item.name == "rate_limit_storage" and "@" in str(value) and "://" in str(value):  # redis://:pw@host
                scheme, rest = str(value).split("://", 1)
                value = f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
            if isinstance(value, tuple):
                value = ",".join(value) or "none"
            pairs.append((item.name, str(dict(value)) if isinstance(value, Mapping) else str(value)))
        return pairs


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(_PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{_PREFIX}{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"{_PREFIX}{name} must be positive, got {raw}")
    return value


def _codes(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """A comma-separated list of codes; None when the variable is unset or empty, () for 'none'."""
    raw = (env.get(_PREFIX + name) or "").strip()
    if not raw:
        return None
    if raw.lower() == "none":
        return ()
    return tuple(code.strip() for code in raw.split(",") if code.strip())


def _documents(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A per-channel list of document kinds, checked against the kinds the product knows."""
    codes = _codes(env, name)
    try:
        return default if codes is None else document_kinds(codes)
    except InvalidInput as exc:
        raise ValueError(f"{_PREFIX}{name}: {exc}") from None


def _languages(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """The languages of instruction, checked against the languages the product can name."""
    codes = _codes(env, name)
    try:
        return default if codes is None else instruction_languages(codes)
    except InvalidInput as exc:
        raise ValueError(f"{_PREFIX}{name}: {exc}") from None


def _limit(env: Mapping[str, str], name: str, default: str) -> str:
    raw = (env.get(_PREFIX + name) or "").strip() or default
    try:
        parse_many(raw)
    except ValueError:
        raise ValueError(f"{_PREFIX}{name}={raw!r} is not a rate limit like '10 per minute'") from None
    return raw


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(_PREFIX + name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{_PREFIX}{name}={raw!r} is not true/false")
