#!/usr/bin/env bash
# Every message a user can see must be in the Chinese catalogue: runs makemessages on a copy of
# the tree (the committed catalogue is never rewritten) and fails on any untranslated or fuzzy
# entry, and when the committed .mo file does not match the .po file it was compiled from.
# Needs GNU gettext (apt-get install gettext).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="${PY:-$ROOT/.venv/bin/python}"
CATALOGUE=locale/zh_Hans/LC_MESSAGES

for tool in msgattrib msgfmt msgunfmt msgcat; do
  command -v "$tool" >/dev/null || { echo "check-messages: $tool not found (apt-get install gettext)"; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar --exclude=./.venv --exclude=./var --exclude=./.git --exclude='*.pyc' -cf - . | tar -xf - -C "$work"

(
  cd "$work"
  DJANGO_DEBUG=1 TIPLINE_VAR_DIR="$work/var" "$PY" manage.py makemessages -l zh_Hans \
    --ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=scripts --ignore=docs \
    >/dev/null
)

status=0
po="$work/$CATALOGUE/django.po"
# e.g. "850 translated messages, 2 fuzzy translations, 3 untranslated messages."
stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$po" 2>&1)
echo "check-messages: $stats"
if echo "$stats" | grep -Eq '[0-9]+ untranslated'; then
  echo "check-messages: untranslated entries (fill their msgstr in $CATALOGUE/django.po):"
  msgattrib --untranslated --no-obsolete "$po" | grep -E '^(#:|msgid "[^"])' | head -80
  status=1
fi
if echo "$stats" | grep -Eq '[0-9]+ fuzzy'; then
  echo "check-messages: fuzzy entries (check the translation, then remove the fuzzy flag):"
  msgattrib --only-fuzzy --no-obsolete "$po" | grep -E '^(#:|msgid "[^"])' | head -80
  status=1
fi
# The site reads the compiled file: it must say what the committed catalogue says.
if ! diff -q <(msgfmt -o - "$CATALOGUE/django.po" | msgunfmt | msgcat --sort-output -) \
             <(msgunfmt "$CATALOGUE/django.mo" | msgcat --sort-output -) >/dev/null; then
  echo "check-messages: $CATALOGUE/django.mo is out of date; run compilemessages and commit it"
  status=1
fi
[ "$status" -eq 0 ] && echo "check-messages: every message is translated"
exit "$status"
