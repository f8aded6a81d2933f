"""Phrases of task pages and forms: the case beside the task, rows, taken tasks, files (kk, ru, en).

Kept apart from the main catalogue for readability; ``service/web/i18n.py`` adds them to it.
"""

from __future__ import annotations

PHRASES: dict[str, tuple[str, str, str]] = {
    # key: (kk, ru, en)
    "task_facts": ("Шешім үшін іс деректері", "Сведения дела для решения", "The case facts for this decision"),
    "fact_missing": ("көрсетілмеген", "не указано", "not given"),
    "fact_withheld": ("Медициналық деректер: сіздің рөліңізге көрсетілмейді",
                      "Медицинские сведения: для вашей роли не показываются",
                      "Medical data: not shown to your role"),
    "no_attachments": ("Тіркелген файл жоқ", "Вложений нет", "No files attached"),
    "taken_by": ("Бұл тапсырманы алған:", "Эту задачу взял(а):", "This task has been taken by"),
    "read_only_task": ("Тек оқу үшін: оны алған адам ғана орындай алады.",
                       "Только для просмотра: выполнить её может только взявший её сотрудник.",
                       "Read only: only the person who took it can complete it."),
    "add_row_button": ("Жол қосу", "Добавить строку", "Add a row"),
    "remove_row_button": ("Жолды жою", "Удалить строку", "Remove the row"),
    "rows_hint": ("Қажет болса, жол қосыңыз; бос жолдар ескерілмейді.",
                  "Добавьте строки, сколько нужно; пустые строки не учитываются.",
                  "Add as many rows as you need; empty rows are left out."),
    "file_kept": ("Файл сақталды:", "Файл сохранён:", "File kept:"),
    "file_kept_hint": ("Басқа файлды таңдасаңыз, ол ауыстырылады.", "Выберите другой файл, чтобы заменить его.",
                       "Choose another file to replace it."),
    "file_empty": ("«{name}» файлы бос.", "Файл «{name}» пустой.", "The file '{name}' is empty."),
    "file_too_large": ("«{name}» файлы тым үлкен: {size} байт, ең көбі {limit} байт.",
                       "Файл «{name}» слишком большой: {size} байт, допускается не более {limit}.",
                       "The file '{name}' is too large: {size} bytes, at most {limit} are accepted."),
    "file_wrong_type": ("«{name}» файлы PDF, JPEG немесе PNG емес.", "Файл «{name}» не является PDF, JPEG или PNG.",
                        "The file '{name}' is not a PDF, JPEG or PNG file."),
}
