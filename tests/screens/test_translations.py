"""The screens' catalogues: every message extracted, Vietnamese complete, the compiled files current."""

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.support import PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "gateway" / "translations"


def catalogue(language: str, kind: str = "po"):
    path = TRANSLATIONS / language / "LC_MESSAGES" / f"messages.{kind}"
    with open(path, "rb") as file:
        return read_po(file) if kind == "po" else read_mo(file)


def test_every_message_of_the_code_and_templates_is_in_the_template_catalogue(scratch_dir):
    extracted = scratch_dir / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "_l",
                                "-o", str(extracted), str(PROJECT_ROOT)])
    with open(extracted, "rb") as fresh, open(TRANSLATIONS / "messages.pot", "rb") as kept:
        assert {m.id for m in read_po(fresh)} == {m.id for m in read_po(kept)}, "run `make translations`"


def test_vietnamese_translates_every_message_and_english_is_there():
    template = {m.id for m in read_po(open(TRANSLATIONS / "messages.pot", "rb")) if m.id}
    vietnamese = catalogue("vi")
    untranslated = [m.id for m in vietnamese if m.id and (not m.string or m.fuzzy)]
    assert {m.id for m in vietnamese if m.id} == template and untranslated == []
    assert {m.id for m in catalogue("en") if m.id} == template


def test_the_compiled_catalogues_match_their_sources():
    for language in ("vi", "en"):
        source = {m.id: m.string for m in catalogue(language) if m.id and m.string}
        compiled = {m.id: m.string for m in catalogue(language, "mo") if m.id and m.string}
        assert compiled == source, f"{language}: run `make translations` (the .mo files are committed)"
