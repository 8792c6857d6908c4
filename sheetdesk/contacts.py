"""Contact details: checking what clerks type, and masking it for anything that leaves the team.

Phone numbers are checked with ``phonenumbers`` (mainland mobiles, landlines with area code, 400
numbers); a cell may hold several contacts separated by ``/ , ; 、`` or spaces.
"""

from __future__ import annotations

import functools
import re

import phonenumbers

_SPLIT = re.compile(r"[,，;；/、|]+|\s{2,}")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_PHONEISH = re.compile(r"^[+\d][\d\s\-()（）]*$")


def contact_text(value: object) -> str:
    """A cell value as contact text; numbers typed into Excel come back as int or float."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def split_contacts(text: str) -> list[str]:
    return [part.strip() for part in _SPLIT.split(text) if part.strip()]


_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")


def is_valid_phone(text: str) -> bool:
    mobile = _MOBILE.match(re.sub(r"[\s\-()（）]", "", text))
    if mobile:  # a mainland mobile's validity depends only on its prefix: check each prefix once
        return _mobile_pattern().fullmatch(mobile.group(1)) is not None or _mobile_prefix_ok(mobile.group(1)[:7])
    return _valid(text)


@functools.lru_cache(maxsize=1)
def _mobile_pattern() -> re.Pattern[str]:
    """phonenumbers' own pattern for mainland mobiles: a match is exactly what is_valid_number
    accepts for them, without parsing (a register has a number on every row)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return re.compile(metadata.mobile.national_number_pattern)


@functools.lru_cache(maxsize=65536)
def _mobile_prefix_ok(prefix: str) -> bool:
    return _valid(prefix + "0000")


def _valid(text: str) -> bool:
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def check_contact(value: object) -> list[str]:
    """The parts of a contact cell that are neither a valid phone number nor an email address."""
    bad = []
    for part in split_contacts(contact_text(value)):
        if "@" in part:
            if not _EMAIL.match(part):
                bad.append(part)
        elif not (_PHONEISH.match(part) and is_valid_phone(part)):
            bad.append(part)
    return bad


def mask_phone(text: str) -> str:
    """``13812345678`` → ``138****5678``; landlines keep area code and last four digits."""
    digits = re.sub(r"\D", "", text)
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 3 if len(digits) >= 11 else max(0, len(digits) - 8)
    return digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


def mask_email(text: str) -> str:
    """``wang.li@example.com`` → ``w***@example.com``."""
    local, _, domain = text.partition("@")
    return (local[:1] + "***@" + domain) if domain else mask_phone(text)


def mask_contact(value: object) -> str:
    parts = split_contacts(contact_text(value))
    return " / ".join(mask_email(p) if "@" in p else mask_phone(p) for p in parts)


def mask_name(value: object) -> str:
    """``王小明`` → ``王**``: the first character, then one star per remaining character."""
    text = contact_text(value)
    if len(text) <= 1:
        return text
    return text[0] + "*" * (len(text) - 1)
