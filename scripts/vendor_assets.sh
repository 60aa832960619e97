#!/usr/bin/env bash
# Vendor pinned front-end assets from the npm registry (run by hand when upgrading; the
# result is committed, so neither `make run` nor CI needs npm):
#   - the State design system (DSFR), a subset of its dist/ into static/dsfr/;
#   - axe-core, for the accessibility audit of the browser tests, into tests/e2e/vendor/;
#   - the ALTCHA proof-of-work widget (MIT), its strict-CSP build, the PBKDF2 worker and the
#     French strings, into static/altcha/ (`--altcha-only` refreshes it alone).
# The DSFR's code is under Licence Ouverte 2.0; its terms of use reserve it to the French
# administration's services (doc/legal/cgu.md of the package).
set -euo pipefail
DSFR_VERSION=1.15.3
AXE_VERSION=4.14.1
ALTCHA_VERSION=3.2.2
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "altcha@${ALTCHA_VERSION}" >/dev/null
mkdir altcha
tar xzf "altcha-${ALTCHA_VERSION}.tgz" -C altcha
target="$root/static/altcha"
rm -rf "$target"
mkdir -p "$target"
cp altcha/package/dist/external/altcha.min.js altcha/package/dist/external/altcha.css "$target/"
cp altcha/package/dist/workers/pbkdf2.js altcha/package/dist/i18n/fr-fr.js "$target/"
cp altcha/package/LICENSE.txt "$target/LICENSE.txt"
echo "$ALTCHA_VERSION" > "$target/VERSION"
if [ "${1:-}" = "--altcha-only" ]; then
    echo "ALTCHA ${ALTCHA_VERSION} → static/altcha"
    exit 0
fi

# `npm pack` fetches the published tarball without running any install script; the licence
# acceptance the DSFR's installer asks for is given for the record all the same.
export DSFR_ACCEPT_LICENSE=1
npm pack --silent "@gouvfr/dsfr@${DSFR_VERSION}" "axe-core@${AXE_VERSION}" >/dev/null
mkdir dsfr axe
tar xzf "gouvfr-dsfr-${DSFR_VERSION}.tgz" -C dsfr
tar xzf "axe-core-${AXE_VERSION}.tgz" -C axe

target="$root/static/dsfr"
rm -rf "$target"
mkdir -p "$target/favicon"
dist=dsfr/package/dist
cp "$dist/dsfr.min.css" "$dist/dsfr.module.min.js" "$dist/dsfr.nomodule.min.js" "$target/"
# Every icon and font file the stylesheet points at (browsers take the woff2 of a font
# face, never its woff fallback): a missing one is an empty box and a 404 on every page.
grep -o 'url([^)]*)' "$dist/dsfr.min.css" | sed -e 's/^url(//' -e 's/)$//' -e 's/"//g' \
    | grep -E '^(icons/.*\.svg|fonts/.*\.woff2)$' | sort -u | while read -r asset; do
    mkdir -p "$target/$(dirname "$asset")"
    cp "$dist/$asset" "$target/$asset"
done
# French text needs a fraction of each Marianne face's glyphs: the faces the stylesheet names
# become that subset, the complete ones load only for a page that needs them (fontTools,
# from the project's environment).
"$root/.venv/bin/python" "$root/scripts/subset_fonts.py" "$dist/fonts" "$target"
cp "$dist"/favicon/{favicon.svg,favicon.ico,apple-touch-icon.png} "$target/favicon/"
cp dsfr/package/LICENSE.md "$target/LICENSE.md"
echo "$DSFR_VERSION" > "$target/VERSION"

mkdir -p "$root/tests/e2e/vendor"
cp axe/package/axe.min.js "$root/tests/e2e/vendor/axe.min.js"
cp axe/package/LICENSE "$root/tests/e2e/vendor/axe-LICENSE"
echo "DSFR ${DSFR_VERSION} → static/dsfr, axe-core ${AXE_VERSION} → tests/e2e/vendor, ALTCHA ${ALTCHA_VERSION} → static/altcha"
