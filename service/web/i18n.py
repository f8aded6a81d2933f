"""The interface in Kazakh, Russian and English: one catalogue of phrases, dates the local way.

Staff read the official terms every day (glossary.md), so phrases are written out per language
here rather than machine-assembled. Dates use Babel's kk/ru/en locale data in Asia/Almaty time.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date

from service.domain.time import ALMATY

from .i18n_forms import PHRASES as _FORMS_PHRASES
from .i18n_operations import PHRASES as _OPERATIONS_PHRASES
from .i18n_search import PHRASES as _SEARCH_PHRASES

LANGUAGES = ("kk", "ru", "en")
LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
DEFAULT_LANGUAGE = "ru"

CATALOGUE: dict[str, tuple[str, str, str]] = {
    # key: (kk, ru, en)
    "app_title": ("Үйде жеке тегін оқыту", "Обучение на дому", "Home schooling"),
    "service_name": (
        "Үйде жеке тегін оқытуды ұйымдастыру үшін құжаттарды қабылдау",
        "Прием документов для организации индивидуального бесплатного обучения на дому",
        "Accepting documents for individual free home schooling",
    ),
    "sign_in": ("Кіру", "Вход", "Sign in"),
    "sign_out": ("Шығу", "Выход", "Sign out"),
    "login": ("Логин", "Логин", "Login"),
    "password": ("Құпиясөз", "Пароль", "Password"),
    "wrong_login": ("Логин немесе құпиясөз қате, не тым көп сәтсіз әрекет: кейінірек қайталаңыз",
                    "Неверный логин или пароль, либо слишком много попыток: повторите позже",
                    "Wrong login or password, or too many attempts: try again later"),
    "locked": ("Тым көп сәтсіз әрекет. Кейінірек қайталаңыз:", "Слишком много неудачных попыток. Повторите после",
               "Too many failed attempts. Try again after"),
    "tasks": ("Тапсырмалар", "Задачи", "Tasks"),
    "my_tasks": ("Менің тапсырмаларым", "Мои задачи", "My tasks"),
    "role_tasks": ("Рөлімнің тапсырмалары", "Задачи моей роли", "My role's tasks"),
    "new_application": ("Өтінішті тіркеу", "Регистрация заявления", "Register an application"),
    "new_complaint": ("Шағымды тіркеу", "Регистрация жалобы", "Register a complaint"),
    "case": ("Іс", "Дело", "Case"),
    "task": ("Тапсырма", "Задача", "Task"),
    "role": ("Рөл", "Роль", "Role"),
    "process": ("Процесс", "Процесс", "Process"),
    "stage": ("Саты", "Стадия", "Stage"),
    "all": ("Барлығы", "Все", "All"),
    "overdue": ("Мерзімі өткен", "Просрочено", "Overdue"),
    "only_overdue": ("Тек мерзімі өткендер", "Только просроченные", "Overdue only"),
    "filter": ("Сүзу", "Отобрать", "Filter"),
    "due": ("Мерзімі", "Срок", "Due"),
    "days_left": ("жұмыс күні қалды", "раб. дн. осталось", "working days left"),
    "due_today": ("бүгін", "сегодня", "today"),
    "days_overdue": ("жұмыс күні кешікті", "раб. дн. просрочено", "working days overdue"),
    "assignee": ("Орындаушы", "Исполнитель", "Assignee"),
    "claim": ("Алу", "Взять", "Claim"),
    "release": ("Қайтару", "Вернуть", "Release"),
    "open": ("Ашу", "Открыть", "Open"),
    "complete": ("Орындау", "Выполнить", "Complete"),
    "no_tasks": ("Тапсырма жоқ", "Задач нет", "No tasks"),
    "page": ("Бет", "Страница", "Page"),
    "previous": ("Алдыңғы", "Назад", "Previous"),
    "next": ("Келесі", "Далее", "Next"),
    "received": ("Түскен күні", "Поступило", "Received"),
    "documents": ("Құжаттар", "Документы", "Documents"),
    "history": ("Тарих", "История", "History"),
    "monitoring": ("Мониторинг жазбалары", "Записи мониторинга", "Monitoring entries"),
    "deadlines": ("Мерзімдер", "Сроки", "Deadlines"),
    "diagram": ("Үдеріс сызбасы", "Схема процесса", "Process diagram"),
    "status": ("Күйі", "Состояние", "Status"),
    "running": ("Орындалуда", "В работе", "In progress"),
    "completed": ("Аяқталды", "Завершено", "Completed"),
    "print": ("Басып шығару", "Печать", "Print"),
    "download_pdf": ("PDF жүктеу", "Скачать PDF", "Download PDF"),
    "form_errors": ("Форманы тексеріңіз:", "Проверьте форму:", "Please check the form:"),
    "saved": ("Сақталды", "Сохранено", "Saved"),
    "task_gone": ("Бұл тапсырманы басқа біреу орындап қойды немесе ол жабылды.",
                  "Эту задачу уже выполнил кто-то другой, или она закрыта.",
                  "Someone else has already completed this task, or it was closed."),
    "task_gone_title": ("Тапсырма жабық", "Задача уже закрыта", "The task is closed"),
    "change_language": ("Тілді ауыстыру", "Сменить язык", "Change language"),
    "scope": ("Қандай тапсырмалар", "Какие задачи", "Which tasks"),
    "actions": ("Әрекеттер", "Действия", "Actions"),
    "row": ("Жол", "Строка", "Row"),
    "diagram_summary": ("Үдеріс бойынша қадамдар", "Шаги процесса", "Steps of the process"),
    # the diagram viewer and the analysts' modeler (service/web/static/diagram-viewer.js, modeler.js)
    "zoom_in": ("Үлкейту", "Увеличить", "Zoom in"),
    "zoom_out": ("Кішірейту", "Уменьшить", "Zoom out"),
    "zoom_fit": ("Толық көрсету", "Показать целиком", "Fit to screen"),
    "diagram_keys": ("Пернетақта: + және − өлшем, 0 толық, бағыттаушы пернелер жылжытады",
                     "Клавиатура: + и − масштаб, 0 целиком, стрелки сдвигают",
                     "Keyboard: + and − zoom, 0 fits, arrow keys move"),
    "modeler": ("Модельер", "Редактор схемы", "Modeler"),
    "modeler_open": ("Модельерде өзгерту", "Изменить в редакторе", "Edit in the modeler"),
    "modeler_live_version": ("Қолданыстағы нұсқа", "Действующая версия", "Live version"),
    "modeler_needs_script": ("Модельерге JavaScript қажет.", "Для редактора нужен JavaScript.",
                             "The modeler needs JavaScript."),
    "modeler_loaded": ("Қолданыстағы нұсқа ашылды", "Открыта действующая версия", "The live version is open"),
    "modeler_validate": ("Тексеру", "Проверить", "Validate"),
    "modeler_diff": ("Өзгерістерді көрсету", "Показать изменения", "Show changes"),
    "modeler_run_features": ("Құқықтық сценарийлерді іске қосу", "Запустить правовые сценарии",
                             "Run the legal features"),
    "modeler_problems": ("Табылған қателер", "Найденные ошибки", "Problems found"),
    "modeler_no_problems": ("Қате табылмады", "Ошибок не найдено", "No problems found"),
    "modeler_warning": ("Ескерту", "Предупреждение", "Warning"),
    "modeler_changes": ("Қолданыстағы нұсқадан айырмашылық", "Отличия от действующей версии",
                        "Differences from the live version"),
    "modeler_no_changes": ("Айырмашылық жоқ", "Отличий нет", "No differences"),
    "modeler_added": ("Қосылды", "Добавлено", "Added"),
    "modeler_removed": ("Жойылды", "Удалено", "Removed"),
    "modeler_changed": ("Өзгертілді", "Изменено", "Changed"),
    "modeler_features": ("Құқықтық сценарийлер", "Правовые сценарии", "Legal features"),
    "modeler_features_note": (
        "Нұсқа іске қосылар алдында Қағидалардың сценарийлері осы нұсқада орындалады.",
        "Перед вводом версии в действие на ней выполняются сценарии Правил.",
        "Before a version goes live, the scenarios of the Rules run against it."),
    "modeler_features_running": ("Сценарийлер орындалуда:", "Сценарии выполняются:", "Features running:"),
    "modeler_features_passed": ("Барлық сценарийлер өтті", "Все сценарии пройдены", "Every feature passed"),
    "modeler_features_failed": ("Сценарийлер өтпеді", "Сценарии не пройдены", "Features failed"),
    "modeler_deploy": ("Нұсқаны іске қосу", "Ввести версию в действие", "Deploy the version"),
    "modeler_override_reason": (
        "Сценарийлер өтпесе де іске қосу себебі (журналға жазылады)",
        "Причина ввода в действие без пройденных сценариев (записывается в журнал)",
        "Reason for deploying without passed features (logged)"),
    "modeler_need_reason": (
        "Сценарийлер бұл нұсқада өтпеді: оларды іске қосыңыз немесе себебін жазыңыз.",
        "Сценарии на этой версии не пройдены: запустите их или укажите причину.",
        "The features have not passed on this version: run them or give a reason."),
    "modeler_deployed": ("Нұсқа іске қосылды: жаңа істер осы нұсқамен басталады",
                         "Версия введена в действие: новые дела начинаются по ней",
                         "Deployed: new cases start on this version"),
    "modeler_unchanged": ("Бұл нұсқа қолданыста тұр", "Эта версия уже действует", "This version is already live"),
    "modeler_request_failed": ("Сұрау орындалмады", "Запрос не выполнен", "The request failed"),
    "conflict": ("Іс өзгерді. Бетті жаңартып, қайталаңыз.", "Дело изменилось. Обновите страницу и повторите.",
                 "The case changed. Reload the page and try again."),
    "forbidden": ("Бұл әрекетке рұқсат жоқ", "Нет прав на это действие", "You may not do this"),
    "not_found": ("Табылмады", "Не найдено", "Not found"),
    "too_large": ("Файл тым үлкен", "Файл слишком большой", "The upload is too large"),
    "server_error": ("Қате орын алды", "Произошла ошибка", "Something went wrong"),
    "unavailable_title": ("Қызмет уақытша қолжетімсіз", "Сервис временно недоступен",
                          "The service is temporarily unavailable"),
    "unavailable": ("Қызмет уақытша қолжетімсіз; бірнеше минуттан кейін қайталап көріңіз. Ештеңе сақталған жоқ.",
                    "Сервис временно недоступен; повторите попытку через несколько минут. Ничего не сохранено.",
                    "The service is temporarily unavailable; try again in a few minutes. Nothing was saved."),
    "process_fault_title": ("Үдеріс сызбасында ақау бар", "В схеме процесса ошибка", "The process diagram has a fault"),
    "process_fault": ("Сызбадағы ақаудың салдарынан бұл әрекет орындалмады; ештеңе сақталған жоқ. Ақау әкімшілер "
                      "үшін журналға жазылды; олар түзеткеннен кейін қайталаңыз.",
                      "Из-за ошибки в схеме процесса действие не выполнено; ничего не сохранено. Ошибка записана "
                      "в журнал для администраторов; повторите после исправления.",
                      "A fault in the process diagram stopped this; nothing was saved. The fault is logged for "
                      "administrators; try again once it is fixed."),
    "step_refused": ("Үдеріс бұл қадамнан бас тартты", "Процесс отклонил этот шаг", "The process refused this step"),
    "back_to_tasks": ("Тапсырмаларға оралу", "К списку задач", "Back to tasks"),
    "language": ("Тіл", "Язык", "Language"),
    "yes": ("Иә", "Да", "Yes"),
    "no": ("Жоқ", "Нет", "No"),
    "choose": ("— таңдаңыз —", "— выберите —", "— choose —"),
    "add_row": ("Жол қосу үшін бос жолды толтырыңыз", "Для добавления строки заполните пустую",
                "Fill an empty row to add one"),
    "attachments": ("Тіркемелер (PDF, JPEG, PNG)", "Вложения (PDF, JPEG, PNG)", "Attachments (PDF, JPEG, PNG)"),
    "attachment_kind": ("Құжат түрі", "Вид документа", "Document kind"),
    "register": ("Тіркеу", "Зарегистрировать", "Register"),
    "organisation": ("Ұйым", "Организация", "Organisation"),
    "rate_limited": ("Сұраулар тым көп: біраз күтіп, қайталаңыз", "Слишком много попыток: подождите и повторите",
                     "Too many attempts: wait a little and try again"),
    "organisations": ("Ұйымдар", "Организации", "Organisations"),
    "staff_admin": ("Қызметкерлер", "Сотрудники", "Staff"),
    "full_name": ("Тегі, аты, әкесінің аты", "ФИО", "Full name"),
    "roles": ("Рөлдер", "Роли", "Roles"),
    "save": ("Сақтау", "Сохранить", "Save"),
    "position": ("Лауазымы", "Должность", "Position"),
    "deactivated": ("өшірілген", "отключен", "deactivated"),
    "deactivate": ("Өшіру", "Отключить", "Deactivate"),
    "reactivate": ("Қосу", "Включить", "Reactivate"),
    "new_password": ("Жаңа құпиясөз", "Новый пароль", "New password"),
    "reset_password": ("Құпиясөзді ауыстыру", "Сменить пароль", "Reset password"),
    "add_staff": ("Қызметкер қосу", "Добавить сотрудника", "Add a member of staff"),
    "registry_imported": ("Тізілім жүктелді", "Реестр загружен", "Registry imported"),
    "registry_refused": ("Тізілім жүктелмеді: ештеңе өзгерген жоқ", "Реестр не загружен: ничего не изменено",
                         "The registry was not imported: nothing changed"),
    "registry_file": ("Тізілім файлы (CSV)", "Файл реестра (CSV)", "Registry file (CSV)"),
    "import": ("Жүктеу", "Загрузить", "Import"),
    "search": ("Іздеу", "Поиск", "Search"),
    "kind": ("Түрі", "Вид", "Kind"),
    "region": ("Өңір", "Регион", "Region"),
    "case_registered": ("Іс тіркелді", "Дело зарегистрировано", "Case registered"),
    "claimed_by_you": ("сізде", "у вас", "yours"),
    "unassigned": ("бос", "свободна", "unassigned"),
    "when": ("Қашан", "Когда", "When"),
    "who": ("Кім", "Кто", "Who"),
    "what": ("Не", "Что", "What"),
    "paragraph": ("Тармақ", "Пункт", "Paragraph"),
    "legend_completed": ("орындалды", "выполнено", "completed"),
    "legend_active": ("орындалуда", "текущее", "active"),
    "legend_overdue": ("мерзімі өтті", "просрочено", "overdue"),
    "diagrams": ("Сызбалар", "Схемы", "Diagrams"),
    "skip_to_content": ("Мазмұнға өту", "Перейти к содержанию", "Skip to content"),
    "application_number": ("Өтініш нөмірі", "Номер заявления", "Application number"),
    "complaint_number": ("Шағым нөмірі", "Номер жалобы", "Complaint number"),
    "offer_number": ("Ұсыныс нөмірі", "Номер предложения", "Offer number"),
    "channel": ("Жүгіну тәсілі", "Способ обращения", "Channel"),
    "addressee": ("Кімге", "Адресат", "Addressee"),
    "received_at": ("Түскен уақыты", "Дата поступления", "Received"),
    "registered_at": ("Тіркелген уақыты", "Дата регистрации", "Registered"),
    "applicant": ("Көрсетілетін қызметті алушы", "Услугополучатель", "Service recipient"),
    "complainant": ("Шағым беруші", "Заявитель жалобы", "Complainant"),
    "child": ("Бала", "Ребенок", "Child"),
    "vkk_conclusion": ("ДКК қорытындысы", "Заключение ВКК", "VKK conclusion"),
    "package_problems": ("Құжаттар топтамасындағы кемшіліктер", "Недостатки пакета документов",
                         "Problems with the document package"),
    "office": ("кеңсе", "канцелярия", "office"),
    "portal": ("портал", "портал", "portal"),
    "proactive": ("проактивті", "проактивно", "proactive"),
    "paper": ("қағаз жеткізгіште", "на бумажном носителе", "on paper"),
    "electronic": ("электрондық", "электронно", "electronic"),
    "action_case_started": ("Іс басталды", "Дело начато", "Case started"),
    "action_case_completed": ("Іс аяқталды", "Дело завершено", "Case completed"),
    "action_task_completed": ("Тапсырма орындалды", "Задача выполнена", "Task completed"),
    "action_task_claimed": ("Тапсырма алынды", "Задача взята", "Task claimed"),
    "action_task_released": ("Тапсырма қайтарылды", "Задача возвращена", "Task released"),
    "action_message_received": ("Хабар келді", "Получено сообщение", "Message received"),
    "action_message_delivered": ("Хабар жеткізілді", "Сообщение доставлено", "Message delivered"),
    "action_message_kept": ("Хабар күтуге қойылды", "Сообщение ожидает", "Message kept"),
    "action_message_sent": ("Хабар жіберілді", "Сообщение отправлено", "Message sent"),
    "action_step": ("Қадам", "Шаг", "Step"),
    "action_stage_changed": ("Саты өзгерді", "Смена стадии", "Stage changed"),
    "action_document_issued": ("Құжат берілді", "Выдан документ", "Document issued"),
    "action_outbox_queued": ("Сыртқы жүйеге жіберуге", "К отправке во внешнюю систему", "Queued for an outside system"),
    "action_outbox_delivered": ("Сыртқы жүйеге жеткізілді", "Доставлено во внешнюю систему",
                                "Delivered to an outside system"),
    "action_timer_fired": ("Мерзім өтті", "Наступил срок", "Deadline reached"),
    "action_timer_failed": ("Мерзім өңделмеді", "Ошибка при наступлении срока", "Deadline failed"),
    "action_court_appeal_recorded": ("Сотқа жүгіну тіркелді", "Записано обращение в суд", "Court appeal recorded"),
    "action_case_started_by_message": ("Іс басталды (хабар)", "Начато дело (по сообщению)", "Case started by message"),
    "upload_application": ("Өтініштің сканерленген көшірмесі", "Скан заявления", "Scan of the application"),
    "upload_vkk_conclusion": ("ДКК қорытындысының сканерленген көшірмесі", "Скан заключения ВКК",
                              "Scan of the VKK conclusion"),
    "action_restricted_document_downloaded": ("Қолжетімділігі шектеулі құжат жүктелді",
                                              "Скачан документ ограниченного доступа",
                                              "Restricted-access document downloaded"),
    "action_document_downloaded": ("Құжат жүктелді", "Скачан документ", "Document downloaded"),
    "court_appeal": ("Сотқа жүгіну (§10)", "Обращение в суд (§10)", "Court appeal (§10)"),
    "court": ("Сот", "Суд", "Court"),
    "filed_on": ("Берілген күні", "Дата подачи", "Filed on"),
    "note": ("Ескертпе", "Примечание", "Note"),
    "record": ("Тіркеу", "Записать", "Record"),
    "legal_document": ("Қағидалардың орындалуы", "Исполнение Правил", "How the Rules are carried out"),
    "run_of": ("Сценарийлердің соңғы іске қосылу нәтижелері:", "Результаты последнего прогона сценариев:",
               "Results of the last run of the scenarios:"),
    "no_run": ("Сценарийлердің іске қосылу есебі әлі жоқ: нәтижелер белгісіз.",
               "Отчёта о прогоне сценариев ещё нет: результаты неизвестны.",
               "No run of the scenarios has been recorded yet: results unknown."),
    "report_unreadable": ("Есепті оқу мүмкін емес, нәтижелер көрсетілмейді:",
                          "Отчёт прочитать не удалось, результаты не показаны:",
                          "The report cannot be read; no results are shown:"),
    "download_html": ("Басып шығаруға арналған нұсқа (HTML)", "Версия для печати (HTML)", "Printable version (HTML)"),
    "obligation": ("Міндет (ереже)", "Обязанность (правило)", "Obligation (rule)"),
    "scenarios_and_result": ("Сценарийлер және соңғы нәтиже", "Сценарии и последний результат",
                             "Scenarios and their last result"),
    "diagram_elements": ("Сызба элементтері", "Элементы схемы", "Diagram elements"),
    "result_passed": ("өтті", "пройден", "passed"),
    "result_failed": ("өтпеді", "не пройден", "failed"),
    "result_not_run": ("іске қосылмаған", "не запускался", "not run"),
    "no_scenarios": ("сценарий жоқ", "сценариев нет", "no scenarios"),
    "element_unknown": ("мұндай атаумен элемент сызбаларда жоқ", "элемента с таким названием на схемах нет",
                        "no diagram element has this name"),
    "not_linked": ("сызба элементтері аталмаған", "элементы схемы не названы", "no diagram element named"),
    "no_feature": ("Бұл тармақ бойынша сипаттама (feature) жоқ.", "По этому пункту нет описания (feature).",
                   "This paragraph has no feature."),
    "legend_cited": ("міндетті орындайтын элементтер", "элементы, исполняющие обязанности",
                     "elements carrying out the obligations"),
    "notify_title": ("Электрондық поштаға хабарламалар", "Уведомления по электронной почте",
                     "E-mail notifications"),
    "notify_explained": ("Рөліңізге жаңа тапсырма келгенде, мерзімі келесі жұмыс күні және сол күні аяқталатын "
                         "тапсырмалар туралы хат жіберіледі. Хатта баланың аты мен медициналық мәліметтер болмайды.",
                         "Письмо приходит, когда для вашей роли появляется новая задача, а также за рабочий день "
                         "до истечения срока задачи и в день его истечения. Имени ребенка и медицинских сведений "
                         "в письме нет.",
                         "A message comes when a new task arrives for your role, one working day before a task "
                         "falls due and on the day it does. It never carries the child's name or medical facts."),
    "notify_email": ("Электрондық пошта мекенжайы (бос болса, хат жіберілмейді)",
                     "Адрес электронной почты (пусто — писем не будет)", "E-mail address (empty: no messages)"),
    "notify_frequency": ("Хаттар жиілігі", "Как часто присылать письма", "How often"),
    "notify_every_off": ("Жібермеу", "Не присылать", "Never"),
    "notify_every_immediate": ("Бірден", "Сразу", "At once"),
    "notify_every_hourly": ("Сағатына бір рет, жиынтық", "Не чаще раза в час, сводкой", "At most hourly, as a digest"),
    "notify_every_daily": ("Күніне бір рет, 09:00-де жиынтық", "Раз в день, сводкой в 09:00",
                           "Once a day, a digest at 09:00"),
    "notify_bad_email": ("Сақталмады: бұл электрондық пошта мекенжайы емес (мысалы, name@school.kz)",
                         "Не сохранено: это не адрес электронной почты (например, name@school.kz)",
                         "Not saved: this is not an e-mail address (e.g. name@school.kz)"),
    "notify_bad_frequency": ("Сақталмады: хаттар жиілігін таңдаңыз",
                             "Не сохранено: выберите, как часто присылать письма",
                             "Not saved: choose how often"),
    "restricted": ("Қолжетімділігі шектеулі мәліметтер: жүктеу журналға жазылады",
                   "Сведения ограниченного доступа: скачивание записывается в журнал",
                   "Restricted-access data: every download is logged"),
}
CATALOGUE.update({k: v for k, v in _OPERATIONS_PHRASES.items() if k not in CATALOGUE})
CATALOGUE.update({k: v for k, v in _SEARCH_PHRASES.items() if k not in CATALOGUE})
CATALOGUE.update({k: v for k, v in _FORMS_PHRASES.items() if k not in CATALOGUE})


def translate(key: str, language: str) -> str:
    """The phrase ``key`` in ``language`` (falls back to Russian, then to the key itself)."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    index = LANGUAGES.index(language) if language in LANGUAGES else 1
    return entry[index]


def pick(labels: dict[str, str] | None, language: str, fallback: str = "") -> str:
    """A label from a {kk, ru, en} mapping in the interface language."""
    if not labels:
        return fallback
    return labels.get(language) or labels.get("ru") or next(iter(labels.values()), fallback)


def local_datetime(value: datetime | None, language: str) -> str:
    """An instant in Almaty time, the way the language writes it (e.g. 27 мар. 2026 г., 18:30)."""
    if value is None:
        return ""
    local = value.astimezone(ALMATY)
    return f"{format_date(local.date(), 'medium', locale=_locale(language))}, {local:%H:%M}"


def local_date(value: date | None, language: str) -> str:
    """A date the way the language writes it."""
    return "" if value is None else format_date(value, "long", locale=_locale(language))


def _locale(language: str) -> str:
    return {"kk": "kk_KZ", "ru": "ru_RU", "en": "en_GB"}.get(language, "ru_RU")


def instant_text(value: str | datetime | None, language: str) -> str:
    """An ISO 8601 instant (as stored in case data) shown the local way; other text unchanged."""
    if isinstance(value, datetime):
        return local_datetime(value, language)
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    return local_datetime(parsed, language) if parsed.tzinfo else value


def date_text(value: str | date | None, language: str) -> str:
    """An ISO date (as stored in case data) written the local way; other text unchanged."""
    if isinstance(value, date):
        return local_date(value, language)
    if not value:
        return ""
    try:
        return local_date(date.fromisoformat(value), language)
    except ValueError:
        return value


def problem_text(problem: dict[str, str], language: str) -> str:
    """A package problem as the sentence the reasoned refusal uses."""
    from service.domain.package import describe_problem

    try:
        return describe_problem(problem, language, with_ground=False)
    except (ValueError, KeyError):
        return str(problem.get("code", problem))
