"""Phrases of the operations page and of incidents on the case and task pages (kk, ru, en).

Kept apart from the main catalogue for readability; ``service/web/i18n.py`` adds them to it.
"""

from __future__ import annotations

PHRASES: dict[str, tuple[str, str, str]] = {
    # key: (kk, ru, en)
    "operations": ("Жүйенің жұмысы", "Эксплуатация", "Operations"),
    "operations_own_organisations": ("Өзіңіз әкімші болып табылатын ұйымдардың істері көрсетілген.",
                                     "Показаны дела организаций, которыми вы администрируете.",
                                     "Cases of the organisations you administer are shown."),
    "incidents": ("Ақаулар", "Инциденты", "Incidents"),
    "retry_listed": ("Көрсетілген барлық істі қазір қайталау", "Повторить сейчас все показанные дела",
                     "Retry every listed case now"),
    "retry_listed_done": ("Қайталанған істер: {total}; әрі қарай жүрді: {moved}; орындалатын ештеңе жоқ: {waiting}; "
                          "сәтсіз: {failed}.",
                          "Повторено дел: {total}; продвинулись: {moved}; выполнять было нечего: {waiting}; "
                          "не удалось: {failed}.",
                          "Cases retried: {total}; moved on: {moved}; nothing due: {waiting}; failed: {failed}."),
    "incident_status_open": ("Ашық", "Открытые", "Open"),
    "incident_status_resolved": ("Шешілген", "Решённые", "Resolved"),
    "incident_status_all": ("Барлығы", "Все", "All"),
    "incident_kind": ("Түрі", "Вид", "Kind"),
    "incident_kind_timer": ("Мерзім (таймер)", "Срок (таймер)", "Timer"),
    "incident_kind_message": ("Хабар", "Сообщение", "Message"),
    "incident_kind_task": ("Тапсырма", "Задача", "Task"),
    "incident_kind_start": ("Істің басталуы", "Начало дела", "Start of the case"),
    "incident_kind_repair": ("Түзету", "Исправление", "Repair"),
    "incident_resolved": ("Шешілді", "Решён", "Resolved"),
    "action_incident_recorded": ("Ақау тіркелді", "Записан инцидент", "Incident recorded"),
    "action_incident_resolved": ("Ақау шешілді", "Инцидент решён", "Incident resolved"),
    "diagram_element": ("Сызба элементі", "Элемент схемы", "Diagram element"),
    "error": ("Қате", "Ошибка", "Error"),
    "first_occurrence": ("Алғаш рет", "Впервые", "First occurred"),
    "last_occurrence": ("Соңғы рет", "Последний раз", "Last occurred"),
    "tries": ("Әрекет саны", "Попыток", "Tries"),
    "next_try": ("Келесі әрекет", "Следующая попытка", "Next try"),
    "no_incidents": ("Ақау жоқ", "Инцидентов нет", "No incidents"),
    "stale_outbox": ("Сыртқы жүйелерге {hours} сағаттан астам жеткізілмеген хабарлар",
                     "Сообщения во внешние системы, не доставленные дольше {hours} ч",
                     "Messages for outside systems undelivered for more than {hours} h"),
    "stale_inbox": ("{hours} сағаттан астам ешбір іс қабылдамаған кіріс хабарлар",
                    "Входящие сообщения, которые ни одно дело не приняло дольше {hours} ч",
                    "Incoming messages no case has taken for more than {hours} h"),
    "outbox_channel": ("Арна", "Канал", "Channel"),
    "message": ("Хабар", "Сообщение", "Message"),
    "last_error": ("Соңғы қате", "Последняя ошибка", "Last error"),
    "queued_at": ("Кезекке қойылды", "Поставлено в очередь", "Queued"),
    "age": ("Күтуде", "Ожидает", "Waiting for"),
    "hours_short": ("сағ", "ч", "h"),
    "not_tried": ("әлі жіберілмеген", "ещё не отправлялось", "not sent yet"),
    "nothing_stale": ("Жоқ", "Нет", "None"),
    "business_key": ("Нөмірі", "Номер", "Number"),
    "case_incident": ("Бұл істе ақау бар", "В этом деле возникла проблема", "This case has a problem"),
    "case_incident_note": ("Іс тоқтап тұр; әкімшілерге хабарланды.", "Дело остановлено; администраторы уведомлены.",
                           "The case is stopped; administrators are told."),
    "task_blocked": ("Бұл істе ақау бар; әкімшілерге хабарланды. Тапсырманы әзірге орындау мүмкін емес.",
                     "В этом деле возникла проблема; администраторы уведомлены. Задачу пока нельзя выполнить.",
                     "This case has a problem; administrators are told. The task cannot be completed for now."),
}
