"""The domain's words come from the catalogues: a key the language's own catalogue lacks is an error,
never the key printed and never the Russian text behind a Kazakh page or document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service import translations
from service.domain.phrases import DOCUMENTS, MESSAGES, MissingPhrase, phrase


@pytest.fixture(autouse=True)
def fresh_catalogues() -> Iterator[None]:
    translations.forget_translations()
    yield
    translations.forget_translations()


def test_a_phrase_is_read_from_the_catalogue_of_its_language_with_its_placeholders() -> None:
    assert phrase("package.document.application", "kk", DOCUMENTS) == "өтініш"
    assert phrase("package.reason.missing_document", "ru", DOCUMENTS, document="X") == "Не представлен документ: X."
    assert phrase("package.document.application", "de", DOCUMENTS) == "заявление"  # another language: Russian


def test_a_key_no_catalogue_has_is_an_error_not_the_key() -> None:
    with pytest.raises(MissingPhrase, match="no_such_key"):
        phrase("no_such_key", "ru", MESSAGES)


def test_a_key_only_the_russian_catalogue_has_is_an_error_in_kazakh(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for language, extra in (("ru", 'msgid "only.ru"\nmsgstr "Только по-русски"\n'), ("kk", "")):
        folder = tmp_path / language / "LC_MESSAGES"
        folder.mkdir(parents=True)
        (folder / "documents.po").write_text(f'msgid ""\nmsgstr ""\n"Language: {language}\\n"\n\n{extra}',
                                             encoding="utf-8")
    monkeypatch.setattr(translations, "CATALOGUES", tmp_path)
    assert phrase("only.ru", "ru", DOCUMENTS) == "Только по-русски"
    with pytest.raises(MissingPhrase, match="no kk text for 'only.ru'"):
        phrase("only.ru", "kk", DOCUMENTS)


def test_roles_are_named_from_the_catalogue_and_a_reviewer_signs_in_the_rules_own_words() -> None:
    from service.domain.staff import BUILT_IN_ROLES, role_name, signature_title

    assert [role_name("head", language) for language in ("kk", "ru", "en")] == [
        "Көрсетілетін қызметті берушінің басшысы", "Руководитель услугодателя", "Head of the provider"]
    for language in ("kk", "ru", "en"):
        names = {role_name(role, language) for role in BUILT_IN_ROLES}
        assert len(names) == len(BUILT_IN_ROLES) and not names & BUILT_IN_ROLES, language
    assert signature_title("reviewing_official", "ru") == "Должностное лицо, уполномоченное на рассмотрение жалобы"
    assert signature_title("reviewing_official", "kk") == "Шағымды қарау өкілеттігі берілген лауазымды адам"
    assert signature_title("office_clerk", "kk") == "Кеңсе қызметкері"
    assert role_name("nobody_named_this", "kk") == "nobody_named_this"
