"""Lighter DSFR fonts for a first visit on a slow network (run by scripts/vendor_assets.sh).

Each Marianne face of the DSFR is about 58 kB, and a page uses three: more than half of a
first visit. French text needs far fewer glyphs than the fonts hold. For each face:

- `fonts/Marianne-X.woff2`, the name the DSFR stylesheet points at, becomes the subset that
  French text uses (Latin-1, œ, €, typographic punctuation): about 30 kB;
- `fonts/Marianne-X-complet.woff2` is the original face, declared by rules appended to the
  stylesheet with the `unicode-range` of every other character it holds. A browser loads it
  only for a page that shows such a character (a name typed as « Łukasz » or « Dvořák »),
  and then shows that character in Marianne all the same.

The DSFR is under Licence Ouverte 2.0, which allows transforming it; the DSFR's own
stylesheet is otherwise left as published.

    python scripts/subset_fonts.py DIST_FONTS_DIR STATIC_DSFR_DIR
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

# What French text uses (the "latin" subset web font services publish).
FRENCH = [
    (0x0000, 0x00FF),
    (0x0131, 0x0131),
    (0x0152, 0x0153),
    (0x02BB, 0x02BC),
    (0x02C6, 0x02C6),
    (0x02DA, 0x02DA),
    (0x02DC, 0x02DC),
    (0x2000, 0x206F),
    (0x20AC, 0x20AC),
    (0x2122, 0x2122),
    (0x2191, 0x2191),
    (0x2193, 0x2193),
    (0x2212, 0x2212),
    (0x2215, 0x2215),
    (0xFEFF, 0xFEFF),
    (0xFFFD, 0xFFFD),
]
WEIGHTS = {"Light": 300, "Regular": 400, "Medium": 500, "Bold": 700}
MARKER = "/* Marianne: every character beyond French text (scripts/subset_fonts.py) */"


def main(dist_fonts: Path, dsfr: Path) -> None:
    rules = []
    for source in sorted(dist_fonts.glob("Marianne-*.woff2")):
        weight_name, _, italic = source.stem.removeprefix("Marianne-").partition("_")
        complete = f"{source.stem}-complet.woff2"
        shutil.copyfile(source, dsfr / "fonts" / complete)
        _subset(source, dsfr / "fonts" / source.name)
        others = _ranges(sorted(set(TTFont(source).getBestCmap()) - _french()))
        rules.append(
            "@font-face{font-family:Marianne;"
            f'src:url("fonts/{complete}") format("woff2");'
            f"font-weight:{WEIGHTS[weight_name]};font-style:{'italic' if italic else 'normal'};"
            f"font-display:swap;unicode-range:{others}}}"
        )
    stylesheet = dsfr / "dsfr.min.css"
    css = stylesheet.read_text(encoding="utf-8").split("\n" + MARKER)[0]
    stylesheet.write_text(css + "\n" + MARKER + "\n" + "\n".join(rules) + "\n", encoding="utf-8")


def _french() -> set[int]:
    return {point for first, last in FRENCH for point in range(first, last + 1)}


def _subset(source: Path, target: Path) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(_french()))
    subsetter.subset(font)
    subset.save_font(font, str(target), options)


def _ranges(points: list[int]) -> str:
    """`U+100-130,U+132-151,…` for sorted code points."""
    spans: list[list[int]] = []
    for point in points:
        if spans and point == spans[-1][1] + 1:
            spans[-1][1] = point
        else:
            spans.append([point, point])
    return ",".join(
        f"U+{first:X}" if first == last else f"U+{first:X}-{last:X}" for first, last in spans
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
