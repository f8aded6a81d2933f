"""Phrases of the inbox, the case list, search and the duplicate warning at intake (kk, ru, en).

Kept apart from the main catalogue for readability; ``service/web/i18n.py`` adds them to it.
"""

from __future__ import annotations

PHRASES: dict[str, tuple[str, str, str]] = {
    # key: (kk, ru, en)
    "cases": ("Істер", "Дела", "Cases"),
    "all_my_roles_tasks": ("Барлық рөлімнің тапсырмалары", "Задачи всех моих ролей", "Tasks of all my roles"),
    "search_hint": ("Іс нөмірі, ЖСН немесе аты-жөні", "Номер дела, ИИН или ФИО", "Case number, IIN or name"),
    "search_hint_long": (
        "12 цифр — ЖСН; цифры бар мәтін — іс нөмірі (басы жеткілікті); әйтпесе баланың немесе өтініш берушінің "
        "тегі мен аты (басы жеткілікті).",
        "12 цифр — ИИН; текст с цифрами — номер дела (достаточно начала); иначе фамилия и имя ребенка или "
        "заявителя (достаточно начала).",
        "12 digits: an IIN; text with digits: a case number (its beginning is enough); otherwise the child's "
        "or the applicant's surname and name (their beginning is enough).",
    ),
    "nothing_found": ("Ештеңе табылмады", "Ничего не найдено", "Nothing found"),
    "no_cases": ("Істер жоқ", "Дел нет", "No cases"),
    "opened": ("Ашылды", "Открыто", "Opened"),
    "due_within": ("Мерзімі", "Срок в пределах", "Due within"),
    "working_days": ("жұмыс күні ішінде", "рабочих дней", "working days"),
    "case_status_running": ("Орындалуда", "В работе", "In progress"),
    "case_status_completed": ("Аяқталды", "Завершено", "Completed"),
    "case_status_cancelled": ("Тоқтатылды", "Отменено", "Cancelled"),
    "duplicate_title": ("Бұл балаға ашық іс бар", "У этого ребенка уже есть открытое дело",
                        "This child already has an open case"),
    "duplicate_text": (
        "Осы мектепте осы ЖСН бар балаға ашық іс тіркелген. Алдымен оны қараңыз: жаңа өтініш сол іске қатысты "
        "болуы мүмкін.",
        "В этой школе уже зарегистрировано открытое дело ребенка с этим ИИН. Сначала посмотрите его: возможно, "
        "новое заявление относится к нему.",
        "An open case of a child with this IIN is already registered at this school. Look at it first: the new "
        "application may belong to it.",
    ),
    "duplicate_confirm": ("Бәрібір жаңа іс ретінде тіркеу", "Всё равно зарегистрировать как новое дело",
                          "Register it as a new case anyway"),
    "duplicate_confirm_needed": (
        "Жаңа іс тіркеу үшін «Бәрібір жаңа іс ретінде тіркеу» белгісін қойыңыз.",
        "Чтобы зарегистрировать новое дело, отметьте «Всё равно зарегистрировать как новое дело».",
        "To register a new case, tick \u201cRegister it as a new case anyway\u201d.",
    ),
    "already_registered": ("Бұл нысан бұрын тіркелген: міне, сол іс.",
                           "Эта форма уже была зарегистрирована: вот это дело.",
                           "This form was already registered: here is its case."),
}
