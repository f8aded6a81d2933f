"""The documents' wording lives in one gettext catalogue per language (domain ``documents``): both
catalogues give every key a text with the same placeholders, every key a template or render.py
uses is there, a key without a text stops the document instead of being printed, a missing or
stale .mo is compiled from its .po, and each document — one template, no copy per language —
still says, word for word, what its Kazakh and Russian templates said."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from service import translations
from service.documents import legal, mail, render
from service.documents.catalogue import MissingTranslation, po_path, wording
from service.documents.provider import ProviderInfo
from service.documents.sms import missing_templates, sms_texts
from service.domain.documents import DOCUMENT_KINDS

from .test_documents import CASE, NOW, PAYLOADS
from .test_documents import provider as provider  # noqa: F401 - the fixture

LANGUAGES = ("kk", "ru")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
#: Where one language's wording leaves out a value the other names (the legal texts say so).
ONE_LANGUAGE_ONLY = {
    "forwarding_letter.intro": {"subject"},   # the Kazakh letter does not name what is appealed
    "complaint_decision.intro": {"subject"},  # neither does the Kazakh decision
}


@pytest.fixture(autouse=True)
def fresh_catalogues() -> Iterator[None]:
    """Each test reads the catalogues from where it points the loader, not from a cache."""
    translations.forget_translations()
    yield
    translations.forget_translations()


def _catalog(language: str) -> Any:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain="documents")


def _messages(language: str) -> dict[str, Any]:
    return {message.id if isinstance(message.id, str) else message.id[0]: message
            for message in _catalog(language) if message.id}


def _texts(message: Any) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def _readable(html: str) -> str:
    text = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def _render(kind: str, language: str, provider: ProviderInfo) -> str:
    return render.render_html(kind, language, {**PAYLOADS[kind], "case_number": CASE, "issued_at": NOW,
                                               "provider": provider})


# --- the catalogues -------------------------------------------------------------------------------


def test_both_catalogues_have_the_same_keys_each_with_a_text() -> None:
    kk, ru = _messages("kk"), _messages("ru")
    assert sorted(kk) == sorted(ru)
    assert len(kk) > 150
    for language, messages in (("kk", kk), ("ru", ru)):
        for key, message in messages.items():
            assert all(text.strip() for text in _texts(message)), f"{language}: {key} has an empty text"
            assert not message.fuzzy, f"{language}: {key} is fuzzy (gettext would skip it)"


def test_placeholders_agree_across_the_languages() -> None:
    kk, ru = _messages("kk"), _messages("ru")
    differing = {}
    for key in kk:
        names = {language: {name for text in _texts(messages[key]) for name in PLACEHOLDER.findall(text)}
                 for language, messages in (("kk", kk), ("ru", ru))}
        if names["kk"] != names["ru"]:
            differing[key] = names["kk"] ^ names["ru"]
        for language, messages in (("kk", kk), ("ru", ru)):  # a lone % would break the formatting
            for text in _texts(messages[key]):
                assert "%" not in PLACEHOLDER.sub("", text).replace("%%", ""), f"{language}: {key}: {text}"
    assert differing == ONE_LANGUAGE_ONLY


def test_the_english_catalogue_has_the_staff_mail_and_the_package_checks_words_and_nothing_else() -> None:
    kk, en = _messages("kk"), _messages("en")
    staff_reads = ("mail.", "package.")  # the digest e-mail; refusal reasons as the English interface shows them
    assert sorted(en) == sorted(key for key in kk if key.startswith(staff_reads)) and len(en) >= 9 + 16
    for key, message in en.items():
        assert message.string.strip(), key
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(kk[key].string)), key


def test_every_key_the_templates_and_render_use_is_in_both_catalogues() -> None:
    used = set()
    for template in [*render.TEMPLATES.glob("*.html"), *render.TEMPLATES.glob("*.txt")]:
        source = re.sub(r"\{#.*?#\}", "", template.read_text(encoding="utf-8"), flags=re.S)  # not comments
        used |= set(re.findall(r"""_\(\s*"([^"]+)\"""", source))
    used |= set(re.findall(r"""words\.text\(\s*"([^"]+)\"""", Path(render.__file__).read_text(encoding="utf-8")))
    used |= {f"title.{kind}" for kind in DOCUMENT_KINDS}
    used |= {f"channel.{code}" for code in render.CHANNELS} | {f"relation.{code}" for code in render.RELATIONS}
    used |= {f"complaint_channel.{code}" for code in render.COMPLAINT_CHANNELS}
    used |= {f"addressee.{code}" for code in render.ADDRESSEES} | {f"appealed.{c}" for c in render.APPEALED_SUBJECTS}
    used |= {f"complaint_decision.outcome.{code}" for code in render.COMPLAINT_DECISIONS}
    used |= {f"month.{n}" for n in range(1, 13)} | {f"month.{n}.dated" for n in range(1, 13)}
    used |= set(legal._RESULT_KEYS.values()) | set(mail._HEADINGS.values()) | {"mail.subject"}
    assert {"receipt.intro", "rules_note", "legal.title", "mail.greeting", "mail.heading.arrived"} <= used
    assert len(used) > 150
    for language in LANGUAGES:
        words = wording(language)
        assert sorted(key for key in used if not words.has(key)) == [], language


def test_there_is_one_template_per_document_and_none_per_language() -> None:
    names = sorted(path.name for path in render.TEMPLATES.iterdir())
    assert [name for name in names if re.search(r"\.(kk|ru)\.", name)] == []
    assert {f"{kind}.html" for kind in DOCUMENT_KINDS} <= set(names)


@pytest.mark.parametrize(("language", "count", "text"), [
    ("ru", 1, "1 рабочий день"), ("ru", 3, "3 рабочих дня"), ("ru", 5, "5 рабочих дней"),
    ("ru", 11, "11 рабочих дней"), ("ru", 12, "12 рабочих дней"), ("ru", 21, "21 рабочий день"),
    ("ru", 22, "22 рабочих дня"), ("ru", 112, "112 рабочих дней"), ("kk", 1, "1 жұмыс күні"),
    ("kk", 5, "5 жұмыс күні"),
])
def test_working_days_take_the_plural_form_of_the_language(language: str, count: int, text: str) -> None:
    assert wording(language).plural("working_days", count) == text


# --- every document, word for word ----------------------------------------------------------------

#: One or two sentences per document and language, as the per-language templates printed them
#: (taken from their output before the move to the catalogue), values filled in.
KEY_SENTENCES: dict[str, dict[str, list[str]]] = {
    "receipt": {
        "kk": ["Көрсетілетін қызметті беруші көрсетілетін қызметті алушыдан «Денсаулық жағдайы бойынша",
               "ДКК қорытындысы № ВКК-77/2026, 01.03.2026 қолданылу мерзімі: 01.03.2027 дейін",
               "Қолхатты алдым: Қасымова Әйгерім Нұрланқызы ____________________ (қолы)"],
        "ru": ["Услугодатель принял от услугополучателя заявление и пакет документов для получения "
               "государственной услуги «Прием документов",
               "Заключение ВКК № ВКК-77/2026 от 01.03.2026 действительно до 01.03.2027",
               "Расписку получил(а): Қасымова Әйгерім Нұрланқызы ____________________ (подпись)"],
    },
    "refusal": {
        "kk": ["Көрсетілетін қызметті беруші Сіздің 2026 жылғы 20 наурыздағы № APP-2026-000123 өтінішіңізді "
               "(жүгіну арнасы: көрсетілетін қызметті берушінің кеңсесі) қарап, «Денсаулық",
               "мемлекеттік көрсетілетін қызметі бойынша өтінішті одан әрі қараудан мынадай негіздер бойынша "
               "бас тартады:"],
        "ru": ["Услугодатель, рассмотрев Ваше заявление № APP-2026-000123 от 20 марта 2026 года (способ "
               "обращения: канцелярия услугодателя), отказывает в дальнейшем рассмотрении заявления об оказании "
               "государственной услуги «Прием",
               "3. В случае несогласия с результатами оказания государственной услуги Вы вправе обратиться в суд "
               "в порядке, установленном законодательством Республики Казахстан (пункт 10 Правил)."],
    },
    "acceptance_notification": {
        "kk": ["Көрсетілетін қызметті беруші Сіздің 2026 жылғы 20 наурыздағы № APP-2026-000123 өтінішіңізді "
               "(электрондық сұрау салуыңызды) және оған қоса берілген құжаттар топтамасын «Денсаулық",
               "Жүгіну арнасы «электрондық үкімет» веб-порталы"],
        "ru": ["Услугодатель принял Ваше заявление (электронный запрос) № APP-2026-000123 от 20 марта 2026 года "
               "и приложенный к нему пакет документов для получения государственной услуги «Прием",
               "Способ обращения веб-портал «электронного правительства»"],
    },
    "admission_order": {
        "kk": ["Қағидалардың 7-тармағына сәйкес, 2026 жылғы 20 наурыздағы № APP-2026-000123 өтініш "
               "(көрсетілетін қызметті алушы: Қасымова Әйгерім Нұрланқызы) және дәрігерлік-консультациялық "
               "комиссияның 2026 жылғы 1 наурыздағы № ВКК-77/2026 қорытындысы негізінде БҰЙЫРАМЫН:",
               "Бұйрықпен таныстым (көрсетілетін қызметті алушы, баланың ата-анасы): Қасымова Әйгерім "
               "Нұрланқызы ____________________ (қолы) «____» ______________ 20____ ж."],
        "ru": ["В соответствии с пунктом 7 Правил, на основании заявления № APP-2026-000123 от 20 марта 2026 года "
               "(услугополучатель: Қасымова Әйгерім Нұрланқызы) и заключения врачебно-консультационной комиссии "
               "№ ВКК-77/2026 от 1 марта 2026 года ПРИКАЗЫВАЮ:",
               "С приказом ознакомлен(а) (услугополучатель, родитель ребенка): Қасымова Әйгерім Нұрланқызы "
               "____________________ (подпись) «____» ______________ 20____ г."],
    },
    "complaint_acknowledgement": {
        "kk": ["Қарау мерзімі шағым тіркелген күннен бастап 5 жұмыс күні",
               "ұзартылған сәттен бастап үш жұмыс күні ішінде жазбаша нысанда хабарланады (Қағидалардың "
               "9-тармағы,"],
        "ru": ["Срок рассмотрения 5 рабочих дней со дня регистрации жалобы",
               "в течение трех рабочих дней с момента продления в письменной форме (пункт 9 Правил, пункт 4 "
               "статьи 25"],
    },
    "favourable_act_notice": {
        "kk": ["Сіздің 2026 жылғы 19 наурыздағы № COMP-2026-0007 шағымыңыз бойынша көрсетілетін қызметті беруші"],
        "ru": ["Сообщаем, что по Вашей жалобе № COMP-2026-0007 от 19 марта 2026 года услугодателем принят "
               "благоприятный административный акт"],
    },
    "forwarding_letter": {
        "kk": ["Кімге (шағымды қарайтын орган): Жергілікті атқарушы орган",
               "Қосымша: 1) № COMP-2026-0007 шағым, ___ парақ; 2) әкімшілік іс (№ APP-2026-000123 өтініш "
               "бойынша), ___ парақ."],
        "ru": ["направляем для рассмотрения жалобу № COMP-2026-0007 от 19 марта 2026 года на решение "
               "услугодателя вместе с административным делом",
               "Приложение: 1) жалоба № COMP-2026-0007 на ___ л.; 2) административное дело по заявлению "
               "№ APP-2026-000123 на ___ л."],
    },
    "extension_notice": {
        "kk": ["Сіздің 2026 жылғы 19 наурыздағы № COMP-2026-0007 шағымыңызды қарау мерзімі 5 жұмыс күніне "
               "ұзартылғанын хабарлаймыз. Мерзім ұзартылды 5 жұмыс күніне"],
        "ru": ["Сообщаем, что срок рассмотрения Вашей жалобы № COMP-2026-0007 от 19 марта 2026 года продлен на "
               "5 рабочих дней. Срок продлен на 5 рабочих дней"],
    },
    "complaint_decision": {
        "kk": ["Шешім Шағымды қанағаттандырудан бас тартылды. Шешімнің уәждері Негізсіз"],
        "ru": ["Рассмотрев Вашу жалобу № COMP-2026-0007 от 19 марта 2026 года на решение услугодателя по вопросу "
               "оказания государственной услуги «Прием",
               "Решение В удовлетворении жалобы отказано. Мотивы решения Негізсіз"],
    },
}
RULES_NOTE = {
    "kk": "Мемлекеттік қызмет тегін көрсетіледі (Қағидаларға 1-қосымша).",
    "ru": "Государственная услуга оказывается бесплатно (приложение 1 к Правилам).",
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(DOCUMENT_KINDS))
def test_each_document_says_its_key_sentences_in_both_languages(kind: str, language: str,
                                                                provider: ProviderInfo) -> None:
    text = _readable(_render(kind, language, provider))
    for sentence in [*KEY_SENTENCES[kind][language], RULES_NOTE[language]]:
        assert sentence in text, sentence
    other = "ru" if language == "kk" else "kk"
    assert KEY_SENTENCES[kind][other][0] not in text
    keys = set(_messages(language))
    assert [key for key in keys if "." in key and key in text] == []  # no raw key anywhere


# --- a key without its text -----------------------------------------------------------------------


def _copy_catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drop: str = "") -> Path:
    """The loader pointed at a copy of the documents catalogues, without the entry ``drop`` in the Kazakh one."""
    for language in LANGUAGES:
        target = tmp_path / language / "LC_MESSAGES" / "documents.po"
        target.parent.mkdir(parents=True)
        text = po_path(language).read_text(encoding="utf-8")
        if drop and language == "kk":
            text = re.sub(rf'(#\. [^\n]*\n)*msgid "{re.escape(drop)}"\nmsgstr (?:"[^\n]*"\n)+\n', "", text)
            assert f'"{drop}"' not in text
        target.write_text(text, encoding="utf-8")
    monkeypatch.setattr(translations, "CATALOGUES", tmp_path)
    return tmp_path


@pytest.mark.parametrize("key", ["receipt.handed_over", "title.receipt", "month.3", "channel.office"])
def test_a_document_with_an_untranslated_key_is_not_issued(key: str, tmp_path: Path, provider: ProviderInfo,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_catalogues(tmp_path, monkeypatch, drop=key)
    assert CASE in _render("receipt", "ru", provider)  # the Russian catalogue is whole
    with pytest.raises(MissingTranslation, match=re.escape(repr(key))):
        _render("receipt", "kk", provider)


def test_an_sms_without_its_text_is_named_and_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_catalogues(tmp_path, monkeypatch, drop="sms.proactive_offer")
    [problem] = missing_templates("sms.proactive_offer")  # the Russian text is there
    assert problem.startswith('msgid "sms.proactive_offer" in ') and problem.endswith("/kk/LC_MESSAGES/documents.po")
    with pytest.raises(ValueError, match="no SMS template"):
        sms_texts("sms.proactive_offer", {"offer_number": "PRO-1", "child_name": "Ахметов Нұрлан"})


def test_templates_rendered_without_a_language_fail_instead_of_printing_keys() -> None:
    template = render._environment.from_string('<p>{{ _("receipt.intro", service_name="x") }}</p>')
    with pytest.raises(MissingTranslation, match="no language installed"):
        template.render()


# --- compiled catalogues ----------------------------------------------------------------------------


def _compile(po: Path, mo: Path, replace: tuple[str, str] = ("", "")) -> None:
    with po.open("rb") as handle:
        catalog = read_po(handle, domain="documents")
    if replace[0]:
        catalog[replace[0]].string = replace[1]
    buffer = BytesIO()
    write_mo(buffer, catalog)
    mo.write_bytes(buffer.getvalue())


def test_a_current_mo_is_what_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: ProviderInfo,
                                      caplog: pytest.LogCaptureFixture) -> None:
    _copy_catalogues(tmp_path, monkeypatch)
    for language in LANGUAGES:
        po = po_path(language)
        _compile(po, po.with_suffix(".mo"), replace=("footer.issued", "Выдано (из .mo)"))
        os.utime(po, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    with caplog.at_level(logging.WARNING):
        assert "Выдано (из .mo): 23 марта 2026 года, 10:15" in _readable(_render("receipt", "ru", provider))
    assert [record for record in caplog.records if "documents" in record.getMessage()] == []


@pytest.mark.parametrize("state", ["missing", "stale"])
def test_a_document_is_made_from_the_po_when_its_mo_is_missing_or_stale_with_a_warning(
    state: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: ProviderInfo,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _copy_catalogues(tmp_path, monkeypatch)
    po = po_path("ru")
    if state == "stale":  # compiled before the wording of the footer changed
        _compile(po, po.with_suffix(".mo"), replace=("footer.issued", "Старая формулировка"))
        os.utime(po.with_suffix(".mo"), ns=(1_000_000_000, 1_000_000_000))
    with caplog.at_level(logging.WARNING):
        text = _readable(_render("extension_notice", "ru", provider))
    assert "Дата выдачи: 23 марта 2026 года, 10:15" in text and "Старая формулировка" not in text
    assert "продлен на 5 рабочих дней" in text  # plural forms survive the compilation in memory
    [warning] = [record.getMessage() for record in caplog.records if "documents.mo" in record.getMessage()]
    assert ("missing" if state == "missing" else "older than its .po") in warning
    assert "make translations" in warning


def test_trans_blocks_and_calls_fill_in_escaped_values() -> None:
    gettext = render.template_gettext(wording("ru"))
    template = render._environment.from_string(
        '{% trans number="<b>1</b>" %}receipt.vkk{% endtrans %} | {{ _("receipt.vkk", number="<i>2</i>") }}')
    assert template.render(gettext=gettext, _=gettext) == "№ &lt;b&gt;1&lt;/b&gt; | № &lt;i&gt;2&lt;/i&gt;"
