"""Compile every catalog (core/locale/<lang>/LC_MESSAGES/dlstudio.po -> .mo), as `make i18n` does.

Not `pybabel compile`: it checks %-style placeholders, and it takes a "5% of" in an English text
for one (every message here is str.format-style: tests/test_i18n.py checks those placeholders).
"""
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "core" / "locale"

for po in sorted(LOCALE.glob("*/LC_MESSAGES/dlstudio.po")):
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parts[-3])
    done = sum(1 for message in catalog if message.id and message.string)
    with po.with_suffix(".mo").open("wb") as handle:
        write_mo(handle, catalog)
    print(f"{po.relative_to(LOCALE.parent.parent)}: {done} of {len(catalog)} translated")
