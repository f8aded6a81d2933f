"""The analysts' diagrams page names processes and elements in the interface language."""

from __future__ import annotations

import html
from pathlib import Path

from .support import demo_web_client, shipped_services

RUSSIAN = "Проверить полноту и срок действия документов"
KAZAKH = "Құжаттардың толықтығы мен қолданылу мерзімін тексеру"
PROCESS_RU = "Приём документов для организации индивидуального бесплатного обучения на дому"


def test_the_diagrams_page_in_kazakh_draws_kazakh_names(tmp_path: Path, database_url: str) -> None:
    services = shipped_services(tmp_path, database_url)
    try:
        client = demo_web_client(services, "analyst")
        assert RUSSIAN in html.unescape(client.get("/diagrams").data.decode())  # Russian: the diagram's own
        client.post("/language", data={"lang": "kk", "next": "/diagrams"})
        page = html.unescape(client.get("/diagrams").data.decode())
        assert KAZAKH in page
        assert RUSSIAN not in page and PROCESS_RU not in page
    finally:
        services.database.dispose()


def test_the_legal_page_in_kazakh_names_the_carrying_elements_and_draws_them_in_kazakh(
        tmp_path: Path, database_url: str) -> None:
    services = shipped_services(tmp_path, database_url)
    try:
        client = demo_web_client(services, "legal")
        assert RUSSIAN in html.unescape(client.get("/legal").data.decode())
        client.post("/language", data={"lang": "kk", "next": "/legal"})
        page = html.unescape(client.get("/legal").data.decode())
        assert page.count(KAZAKH) >= 2  # in the list of carrying elements and in the drawing
        assert RUSSIAN not in page
    finally:
        services.database.dispose()
