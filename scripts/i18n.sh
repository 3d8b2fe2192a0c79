#!/usr/bin/env bash
# Translation catalogues: extract -> update -> (translate zh) -> compile.
#
#   scripts/i18n.sh extract          source -> translations/messages.pot (babel.cfg decides what)
#   scripts/i18n.sh update           .pot -> translations/{zh,en}/LC_MESSAGES/messages.po
#                                    (creates a missing catalogue with `pybabel init`)
#   scripts/i18n.sh compile          .po -> .mo, with statistics
#   scripts/i18n.sh extract update   steps run in the order given; no argument = all three
#
# After `update`, translate every new empty msgstr in translations/zh/LC_MESSAGES/messages.po
# (keep %(name)s placeholders exactly), then `compile`. en stays empty: the English source
# text is the fallback. Both .po and .mo files are committed; tests/test_i18n.py checks that
# the zh catalogue is complete and the .mo files are up to date.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -x .venv/bin/pybabel ]; then
    PYBABEL=.venv/bin/pybabel
else
    PYBABEL=pybabel
fi

LOCALES=(zh en)   # must match webcore.i18n.LANGUAGES; "zh", not zh_CN (Flask-Babel looks up "zh")
DIR=translations
POT=$DIR/messages.pot

extract() {
    # Keywords live in babel.cfg (one source of truth, shared with tests/test_i18n.py).
    # --ignore-dirs: Babel's default also skips "_*" directories, which would drop
    # templates/_macros; skip only hidden directories (.venv, .git) and __pycache__.
    "$PYBABEL" extract -F babel.cfg \
        --ignore-dirs='.* __pycache__' \
        --add-comments=Translators: \
        --no-location --sort-output \
        --project='Customer Cards' --copyright-holder='Customer Cards' \
        -o "$POT" .
}

update() {
    [ -f "$POT" ] || extract
    local locale
    for locale in "${LOCALES[@]}"; do
        if [ -f "$DIR/$locale/LC_MESSAGES/messages.po" ]; then
            "$PYBABEL" update -i "$POT" -d "$DIR" -l "$locale" \
                --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
        else
            "$PYBABEL" init -i "$POT" -d "$DIR" -l "$locale"
        fi
    done
}

compile() {
    "$PYBABEL" compile -d "$DIR" --statistics
}

[ $# -gt 0 ] || set -- extract update compile
for step in "$@"; do
    case $step in
        extract|update|compile) "$step" ;;
        *) echo "usage: $0 [extract] [update] [compile]" >&2; exit 2 ;;
    esac
done
