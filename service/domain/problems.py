"""What validating diagrams and forms finds: one :class:`Problem` per mistake, with what to do about it.

A problem names where it is (the file, the line, the element's id and name), what is wrong, what
to do, how serious it is (an ``error`` stops a deployment; a ``warning`` does not) and its
``kind`` — a short, stable code (``variable-unknown``, ``duplicate-id``…) that tools and tests
match on instead of the wording.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from .errors import DiagramError

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class Problem:
    """One mistake in a diagram or form, located and explained."""

    file: str | None
    message: str
    hint: str = ""
    kind: str = "invalid"
    severity: Severity = ERROR
    line: int | None = None
    element_id: str | None = None
    element_name: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether the problem stops a deployment (warnings do not)."""
        return self.severity == ERROR

    def describe(self) -> str:
        """One line: where, what, and what to do."""
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.element_id:
            label = f"element '{self.element_id}'"
            if self.element_name and self.element_name != self.element_id:
                label += f" ({self.element_name})"
            where.append(label)
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        return f"{text} — {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, Any]:
        """The problem as plain JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_error(cls, error: DiagramError, *, kind: str = "invalid", hint: str = "",
                   severity: Severity | None = None) -> Problem:
        """A problem from a :class:`DiagramError` (a check may set ``severity``/``kind``/``hint`` on it)."""
        chosen = severity or getattr(error, "severity", ERROR)
        return cls(
            file=error.file, message=error.message, line=error.line, element_id=error.element_id,
            element_name=error.element_name, kind=str(getattr(error, "kind", kind)),
            hint=str(getattr(error, "hint", hint)), severity=WARNING if chosen == WARNING else ERROR,
        )


#: What each kind of problem is, in Kazakh, Russian and English (for a list of problems in the interface).
KIND_TITLES: dict[str, tuple[str, str, str]] = {
    "xml": ("XML қатесі", "Ошибка XML", "Not well-formed XML"),
    "schema": ("BPMN 2.0 схемасына сәйкес емес", "Не соответствует схеме BPMN 2.0", "Against the BPMN 2.0 schema"),
    "duplicate-id": ("Бірдей идентификатор", "Повторяющийся идентификатор", "Duplicate id"),
    "process": ("Орындалатын процесс жоқ", "Нет исполняемого процесса", "No executable process"),
    "duplicate-process": ("Процесс екі рет анықталған", "Процесс определён дважды", "Process defined twice"),
    "flow": ("Байланыспаған ағын", "Поток никуда не ведёт", "Flow connects nothing"),
    "code": ("Өрнектегі немесе скрипттегі қате", "Ошибка в выражении или скрипте", "Error in an expression or script"),
    "engine": ("Қозғалтқыш диаграмманы оқи алмайды", "Движок не может прочитать схему", "The engine cannot read it"),
    "stage": ("Белгісіз кезең", "Неизвестная стадия", "Unknown stage"),
    "message": ("Хабарлама аталмаған", "Сообщение не указано", "Message not named"),
    "message-uncaught": ("Хабарламаны ешкім қабылдамайды", "Сообщение никто не принимает", "Message caught by nobody"),
    "message-never-sent": ("Хабарламаны ешкім жібермейді", "Сообщение никто не отправляет", "Message nobody sends"),
    "lane-role": ("Жолақ белгілі рөл емес", "Дорожка — не известная роль", "Lane is not a known role"),
    "task-without-lane": ("Тапсырма рөлсіз", "Задача без роли", "Task without a role"),
    "gateway-default": ("Әдепкі ағын жоқ", "Нет потока по умолчанию", "No default flow"),
    "gateway-condition": ("Ағынның шарты жоқ", "У потока нет условия", "Flow without a condition"),
    "gateway-overlap": ("Шарттар қайталанады", "Условия совпадают", "Conditions overlap"),
    "unreachable": ("Элементке жол жоқ", "Элемент недостижим", "Unreachable element"),
    "no-end": ("Жол аяқталмайды", "Путь не доходит до конца", "Path never ends"),
    "variable-unknown": ("Айнымалы жазылмаған", "Переменная не задана", "Variable never written"),
    "field-unknown": ("Хабарламада мұндай өріс жоқ", "В сообщении нет такого поля", "Field the message lacks"),
    "setting-unknown": ("Белгісіз баптау", "Неизвестная настройка", "Unknown setting"),
    "timer": ("Таймер уақыт бермейді", "Таймер не даёт момент времени", "Timer gives no instant"),
    "timer-convention": ("Күнтізбелік уақыт таймері", "Таймер календарного времени", "Calendar-time timer"),
    "camunda": ("Camunda төлсипаты ескерілмейді", "Атрибут Camunda игнорируется", "Camunda attribute ignored"),
    "form-missing": ("Форма жоқ", "Нет формы", "Form missing"),
    "form-invalid": ("Форма қате", "Ошибка в форме", "Invalid form"),
    "form-orphan": ("Форманың тапсырмасы жоқ", "Форма без задачи", "Form without a task"),
    "sms-text": ("SMS мәтіні жоқ", "Нет текста SMS", "SMS text missing"),
    "file": ("Файл оқылмайды", "Файл не читается", "File cannot be read"),
    "lint": ("bpmnlint ескертуі", "Замечание bpmnlint", "bpmnlint finding"),
    "layout": ("Сызбадағы орналасу", "Расположение на схеме", "Drawing layout"),
}
_LANGUAGE_INDEX = {"kk": 0, "ru": 1, "en": 2}


def kind_title(kind: str, language: str) -> str:
    """What a kind of problem is, in ``language`` (kk, ru or en); the kind itself if it has no title.

    The linter's kinds (``bpmnlint/<rule>``, ``bpmnlint-…``) and the layout checks' (``layout-…``) share one title.
    """
    family = "lint" if kind.startswith("bpmnlint") else "layout" if kind.startswith("layout-") else kind
    titles = KIND_TITLES.get(kind) or KIND_TITLES.get(family)
    return titles[_LANGUAGE_INDEX.get(language, 2)] if titles else kind


def sort_key(problem: Problem) -> tuple[str, int, str, str]:
    """Problems in reading order: by file, line, element, message."""
    return (problem.file or "", problem.line or 0, problem.element_id or "", problem.message)
