"""The app in Chinese: the catalog is complete and consistent, the language follows a choice, a
link, a cookie, the browser or LANG, and a page drawn in Chinese shows no English sentence."""
from __future__ import annotations

import gettext
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core import i18n

ROOT = Path(__file__).resolve().parent.parent
PO = i18n.LOCALE_DIR / "zh" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "param": (2,)}
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z_0-9]*)(?:[^{}]*)\}(?!\})")

def same_allowed(english: str) -> bool:
    """A message whose Chinese is rightly the English itself: placeholders, symbols, units and
    the terms a Chinese page keeps (names, formulas: core/locale/glossary.md) only."""
    from tests.test_i18n_pages import KEPT
    bare = re.sub(r"\{[^{}]*\}", " ", english)
    return all(len(word) == 1 or word.lower() in KEPT | {"min", "n-gram"}
               for word in re.findall(r"[A-Za-z][A-Za-z0-9'\-]*", bare))


def po_catalog():
    from babel.messages.pofile import read_po
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh")


def extracted() -> dict[str, tuple]:
    """Every message Babel extracts from the app's code (as ``make i18n`` does)."""
    from babel.messages.extract import extract_from_dir
    found = {}
    for path in (ROOT / "core", ROOT / "ui", ROOT / "views"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
                str(path), method_map=[("**.py", "python")], keywords=KEYWORDS):
            found[message if isinstance(message, str) else message[0]] = (
                f"{path.name}/{filename}", lineno)
    return found


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_the_language_names_parse():
    assert i18n.normalise("zh_CN.UTF-8") == "zh" and i18n.normalise("zh-Hans-CN") == "zh"
    assert i18n.normalise("en-GB") == "en" and i18n.normalise("fr_FR") is None
    assert i18n.normalise("") is None and i18n.normalise(None) is None
    assert i18n.from_accept_language("fr-FR,zh-CN;q=0.8,en;q=0.5") == "zh"
    assert i18n.from_accept_language("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert i18n.from_accept_language("fr,de;q=0.5") is None
    assert i18n.from_environment({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert i18n.from_environment({"LANG": "C.UTF-8"}) == "en"
    assert i18n.from_environment({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}) == "zh"
    assert i18n.from_environment({}) == "en"


def test_each_thread_speaks_its_own_language():
    heard = {}

    def visitor(code):
        i18n.use(code)
        heard[code] = i18n._("Load pretrained")

    threads = [threading.Thread(target=visitor, args=(code,)) for code in ("zh", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert heard["en"] == "Load pretrained"
    assert heard["zh"] != "Load pretrained" and re.search(r"[\u4e00-\u9fff]", heard["zh"])
    assert i18n.current() == "en"      # this thread was not touched


def test_every_extracted_message_has_a_chinese_translation():
    catalog = po_catalog()
    missing, empty = [], []
    for message, where in extracted().items():
        entry = catalog.get(message)
        if entry is None:
            missing.append(f"{where[0]}:{where[1]} {message[:70]!r}")
            continue
        text = entry.string if isinstance(entry.string, str) else entry.string[0]
        if not text or entry.fuzzy:
            empty.append(f"{where[0]}:{where[1]} {message[:70]!r}")
    assert not missing, f"{len(missing)} messages not in the catalog (make i18n):\n" + \
        "\n".join(missing[:40])
    assert not empty, f"{len(empty)} messages without a translation:\n" + "\n".join(empty[:40])


def test_translations_keep_placeholders_and_are_not_the_english():
    wrong, same = [], []
    for entry in po_catalog():
        if not entry.id:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[0]
        chinese = entry.string if isinstance(entry.string, str) else entry.string[0]
        if not chinese:
            continue
        if placeholders(english) != placeholders(chinese):
            wrong.append(f"{english[:60]!r}: {sorted(placeholders(english))} vs "
                         f"{sorted(placeholders(chinese))}")
        if chinese == english and not same_allowed(english):
            same.append(english[:70])
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong[:30])
    assert not same, "left in English:\n" + "\n".join(same[:30])


def test_every_form_label_is_in_the_chinese_catalog():
    """A config field without a label is shown by its name (``ui.forms.field_label``):
    ``scripts/i18n_fields.py`` (run by ``make i18n``) marks those names for the catalog."""
    import dataclasses

    from core.registry import MODELS
    from ui.forms import field_label
    untranslated = set()
    i18n.use("zh")
    try:
        for spec in MODELS.values():
            for field in dataclasses.fields(spec.config_cls):
                label = field_label(field)
                if label == (field.metadata.get("label") or field.name.replace("_", " ")) \
                        and not same_allowed(label):
                    untranslated.add(label)
    finally:
        i18n.use("en")
    assert not untranslated, sorted(untranslated)


def test_a_message_made_for_everyone_is_said_again_in_each_language():
    """A computation shared by every visitor (a t-SNE map's progress, a corpus note) makes a
    ``Message``: English where it is read as text, each page's language where it is shown, and the
    same after a cache pickles it."""
    import pickle
    message = i18n.Message(i18n.N_("t-SNE of {count:,} feature vectors"), count=12000)
    assert message == "t-SNE of 12,000 feature vectors"
    for kept in (message, pickle.loads(pickle.dumps(message))):
        said = i18n.spoken("zh", lambda kept=kept: i18n.shown(kept))
        assert "12,000" in said and re.search(r"[\u4e00-\u9fff]", said), said
        assert i18n.shown(kept) == "t-SNE of 12,000 feature vectors"
    assert i18n.current() == "en"      # spoken() left this thread's language alone


def test_the_compiled_catalog_is_the_po_file():
    """The committed .mo says what the .po says (make i18n compiles it)."""
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in po_catalog():
        if not entry.id or entry.fuzzy:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[0]
        chinese = entry.string if isinstance(entry.string, str) else entry.string[0]
        if isinstance(entry.id, str):
            assert compiled.gettext(english) == (chinese or english), english[:70]
        else:
            assert compiled.ngettext(entry.id[0], entry.id[1], 2) == (chinese or entry.id[1])


def test_the_glossary_terms_are_used():
    """The tutorial's own words, where it has them, are what the catalog says."""
    use = i18n.use("zh")
    try:
        assert use == "zh"
        text = "\n".join(entry.string if isinstance(entry.string, str) else entry.string[0]
                         for entry in po_catalog() if entry.id)
    finally:
        i18n.use("en")
    assert "鉴别器" in text and "生成器" in text and "判别器" not in text
    for term in ("语言模型", "卷积", "准确率", "标签平滑", "学习率"):
        assert term in text, term


def test_the_cli_follows_lang():
    run = subprocess.run([sys.executable, "-m", "core.cli", "--help"], cwd=ROOT, text=True,
                         capture_output=True, env={"LANG": "zh_CN.UTF-8", "PATH": "/usr/bin",
                                                   "DLSTUDIO_DATASET": "synthetic"}, timeout=120)
    english = subprocess.run([sys.executable, "-m", "core.cli", "--help"], cwd=ROOT, text=True,
                             capture_output=True, env={"LANG": "C.UTF-8", "PATH": "/usr/bin",
                                                       "DLSTUDIO_DATASET": "synthetic"},
                             timeout=120)
    assert run.returncode == 0 and english.returncode == 0, run.stderr[-500:]
    assert re.search(r"[\u4e00-\u9fff]", run.stdout)
    assert not re.search(r"[\u4e00-\u9fff]", english.stdout.replace("中文", ""))


def test_the_mode_collapse_verdict_reads_in_chinese():
    from tests.test_diagnostics import HEALTHY, diagnose, history, noisy
    from tests.test_i18n_pages import english_sentences
    i18n.use("zh")
    try:
        verdict = diagnose(history(**{**HEALTHY, "diversity/ratio": noisy(0.1, 0.01)}),
                           {"latent_dim": 1})
        texts = [verdict.headline, *verdict.evidence,
                 *[f"{remedy.label} {remedy.help}" for remedy in verdict.remedies]]
    finally:
        i18n.use("en")
    assert verdict.state == "mode collapse"       # the code the app compares stays English
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in texts), texts
    leftovers = [found for text in texts for found in english_sentences(text)]
    assert not leftovers, leftovers


@pytest.mark.parametrize("code", ["zh", "en"])
def test_the_sidebar_switch_and_a_link_set_the_language(code):
    from streamlit.testing.v1 import AppTest
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["lang"] = code
    app.run()
    assert not app.exception
    switch = app.selectbox(key="language")
    assert switch.value == code
    title = app.title[0].value if app.title else ""
    chinese = bool(re.search(r"[\u4e00-\u9fff]", "".join(m.value for m in app.markdown)))
    assert chinese == (code == "zh"), title
    other = "en" if code == "zh" else "zh"
    switch.set_value(other).run()            # the switch beats the link it was opened with
    assert app.selectbox(key="language").value == other
    chinese = bool(re.search(r"[\u4e00-\u9fff]", "".join(m.value for m in app.markdown)))
    assert chinese == (other == "zh")
