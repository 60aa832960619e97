"""Telephone numbers of France, overseas numbering included."""

from __future__ import annotations

import phonenumbers

from booking.domain.text import SPACE

# The numbering region of each overseas département or collectivity; the rest is FR.
REGION_OF_DEPARTMENT = {
    "971": "GP",
    "972": "MQ",
    "973": "GF",
    "974": "RE",
    "975": "PM",
    "976": "YT",
    "977": "BL",
    "978": "MF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
}
FRENCH_REGIONS = frozenset({"FR", *REGION_OF_DEPARTMENT.values()})


def parse_phone(text: str, department: str = "") -> phonenumbers.PhoneNumber | None:
    """The number if it is a valid French one (metropolitan or overseas), else None."""
    region = REGION_OF_DEPARTMENT.get(department, "FR")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        # A local overseas number written without its prefix is read as metropolitan first.
        for other in sorted(FRENCH_REGIONS - {region}):
            try:
                candidate = phonenumbers.parse(text, other)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(candidate):
                return candidate
        return None
    if phonenumbers.region_code_for_number(number) not in FRENCH_REGIONS:
        return None
    return number


# Overseas departments whose country code is also the first digits of every local number:
# "+590 41 14 20" lost those digits when the directory was written (0590 41 14 20).
_AREA_IS_COUNTRY_CODE = ("590", "594", "596", "262", "269")


def repair_phone(text: str, department: str = "") -> str | None:
    """A valid number recovered from a damaged one, or None.

    Recovers a number written among other words ("17 ou 112 ou 05 46 56 21 13") and an overseas
    number that lost its local area digits ("+590 41 14 20").
    """
    region = REGION_OF_DEPARTMENT.get(department, "FR")
    digits = "".join(char for char in text if char.isdigit())
    for code in _AREA_IS_COUNTRY_CODE:
        if text.strip().startswith("+" + code) and len(digits) == len(code) + 6:
            candidate = "0" + code + digits[len(code) :]
            if parse_phone(candidate, department) is not None:
                return display_phone(candidate, department)
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        if phonenumbers.region_code_for_number(match.number) in FRENCH_REGIONS:
            return phonenumbers.format_number(
                match.number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
    return None


def display_phone(text: str, department: str = "") -> str | None:
    """`+33 4 50 40 59 30` style, or None when the number is not valid."""
    number = parse_phone(text, department)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def spoken_phone(text: str) -> str:
    """A stored number as a French reader dials it (`06 12 34 56 78`, `+262 …` overseas
    seen from elsewhere is kept national too); the text itself when it is not a number."""
    number = parse_phone(text)
    if number is None:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def e164(text: str, department: str = "") -> str | None:
    """`+33450405930` style, or None when the number is not valid."""
    number = parse_phone(text, department)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Separators people type inside a number: "06 12 34 56 78", "06.12.34.56.78", "06-12-…".
_SEPARATORS = "[ .-]*"
_NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


def _with_separators(pattern: str) -> str:
    """A phonenumbers pattern over digits, letting separators follow every digit."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and pattern[index + 1] == "d":
            atom, index = r"\d", index + 2
        elif char == "[":
            end = pattern.index("]", index)
            atom, index = pattern[index : end + 1], end + 1
        elif char.isdigit():
            atom, index = char, index + 1
        else:  # (?: ( ) | and the quantifiers of groups: kept as they are
            out.append(char)
            index += 1
            continue
        quantifier = ""
        if index < len(pattern) and pattern[index] in "{?":
            end = pattern.index("}", index) + 1 if pattern[index] == "{" else index + 1
            quantifier, index = pattern[index:end], end
        out.append(f"(?:{atom}{_SEPARATORS}){quantifier}")
    return "".join(out)


def _region_pattern(region: str) -> str:
    """The numbers valid in one numbering region, national or international, as typed."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    assert metadata is not None, region
    national = "|".join(
        _with_separators(description.national_number_pattern)
        for name in _NUMBER_TYPES
        if (description := getattr(metadata, name)) is not None
        and description.national_number_pattern
    )
    international = rf"(?:\+|00){_SEPARATORS}{metadata.country_code}{_SEPARATORS}"
    prefix = metadata.national_prefix
    start = f"(?:{international}|{prefix}{_SEPARATORS})" if prefix else f"(?:{international})?"
    return f"{start}(?:{national})"


# Every number valid for France, metropolitan or overseas, as people type it: the API's
# documented pattern and the form's first check (`e164` then normalises it).
PHONE_PATTERN = (
    f"^{SPACE}*(?:"
    + "|".join(_region_pattern(region) for region in sorted(FRENCH_REGIONS))
    + f"){SPACE}*$"
)
