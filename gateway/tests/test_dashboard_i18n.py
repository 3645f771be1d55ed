"""The dashboard's texts: every key in all three languages, every key a template names
exists, and the language chosen the way a desk in Shanghai, Taipei or London expects."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from gateway.dashboard import i18n
from gateway.dashboard.render import TEMPLATES

# A literal key: t("a.b") or t("a.b", n=1); not t("a." ~ kind), a family chosen at run time.
KEY_IN_TEMPLATE = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']\s*[,)]""")
PAGES = Path(i18n.__file__).parent


def test_every_text_is_there_in_every_language() -> None:
    texts = i18n.catalog()
    assert texts
    for key, value in texts.items():
        assert set(value) == set(i18n.LANGUAGES), key


def test_every_key_a_template_or_page_names_exists() -> None:
    named: set[tuple[str, str]] = set()
    for path in [*TEMPLATES.rglob("*.html"), *(PAGES / "pages").rglob("*.py")]:
        for key in KEY_IN_TEMPLATE.findall(path.read_text()):
            named.add((key, str(path.relative_to(PAGES))))
    assert named
    missing = sorted(f"{key} ({where})" for key, where in named if key not in i18n.catalog())
    assert missing == []


def test_a_key_in_one_language_only_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x.toml").write_text('[x]\ntitle = { en = "Title", zh-Hans = "标题" }\n')
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"x\.title has no zh-Hant"):
            i18n.catalog()
    finally:
        i18n.catalog.cache_clear()


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-TW", "zh-Hant"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,de;q=0.5", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_the_browser_language_picks_one_of_the_three(header: str | None, language: str) -> None:
    assert i18n.choose(None, header) == language


def test_the_chosen_language_wins_over_the_browser_and_an_unknown_one_does_not() -> None:
    assert i18n.choose("zh-Hant", "en-GB") == "zh-Hant"
    assert i18n.choose("klingon", "zh-CN") == "zh-Hans"


def test_amounts_dates_and_times_as_the_desk_reads_them() -> None:
    assert i18n.money(128800) == "¥1,288.00"
    assert i18n.money(-500) == "-¥5.00"
    assert i18n.money(None) == "—"
    assert i18n.day(date(2026, 12, 2), "zh-Hans") == "2026年12月2日"
    assert i18n.day("2026-12-02", "en") == "02 Dec 2026"
    # 02:30 UTC is 10:30 in Shanghai.
    assert i18n.clock(datetime(2026, 12, 2, 2, 30, tzinfo=UTC)) == "10:30"
    assert i18n.clock("2026-12-02T02:30:00Z", "Europe/London") == "02:30"
