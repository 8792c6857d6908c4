"""Contact details: checking what clerks type, and masking it for anything that leaves the team.

Phone numbers are checked with ``phonenumbers`` (mainland mobiles, landlines with area code, 400
numbers); WeChat IDs count as contacts when they say so (``微信：abc_123``, ``wx: abc_123``) or, on a
WeChat channel, when they have a WeChat ID's shape; a cell may hold several contacts separated by
``/ , ; 、`` or spaces. Masking
(:func:`scrub_text`) looks for what people really type — full-width digits, separators anywhere,
country prefixes, names in any case — because the external report leaves the team.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

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
    mobile = metadata.mobile if metadata is not None else None
    pattern = mobile.national_number_pattern if mobile is not None else None
    if pattern is None:  # every phonenumbers release has it: without it no mobile could be checked
        raise RuntimeError("phonenumbers has no pattern for mainland (CN) mobile numbers")
    return re.compile(pattern)


@functools.lru_cache(maxsize=65536)
def _mobile_prefix_ok(prefix: str) -> bool:
    return _valid(prefix + "0000")


def _valid(text: str) -> bool:
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


#: what people write before a WeChat ID: 微信：abc_123, 微信号 abc_123, wx: abc_123, WeChat abc_123, VX abc_123
_WECHAT_PREFIX = re.compile(r"^(?:(?:微信号?|企业微信|v信)\s*(?:id|号)?\s*[:：]?"
                            r"|(?:wx|vx|wechat|weixin)\s*(?:id|号)?\s*[:：]|(?:wx|vx|wechat|weixin)(?:\s*id)?\s)\s*",
                            re.IGNORECASE)
#: WeChat's own rule for an ID: 6–20 characters, a letter first, then letters, digits, ``_`` or ``-``
_WECHAT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{5,19}$")
#: channels on which a bare ID in 联系方式 is read as the customer's WeChat ID (normalised)
WECHAT_CHANNELS = frozenset({"微信", "企业微信", "wechat", "wecom", "wechatwork"})


def wechat_id(part: str, channel: str = "") -> str | None:
    """The WeChat ID a contact part names, or None: ``微信：abc_123`` / ``wx: abc_123`` anywhere, a bare
    ``abc_123`` only when the ticket came by WeChat. A mobile number after the prefix (WeChat accounts
    are often the phone number) is returned as it is."""
    text = unicodedata.normalize("NFKC", part).strip()
    prefixed = _WECHAT_PREFIX.match(text)
    if prefixed and prefixed.end() > 0 and text[prefixed.end():]:
        rest = text[prefixed.end():].strip()
        if _WECHAT_ID.match(rest) or (_PHONEISH.match(rest) and is_valid_phone(rest)):
            return rest
    if is_wechat_channel(channel) and _WECHAT_ID.match(text):
        return text
    return None


def is_wechat_channel(channel: object) -> bool:
    return re.sub(r"[\s_\-]+", "", str(channel or "")).lower() in WECHAT_CHANNELS


def check_contact(value: object, channel: object = "") -> list[str]:
    """The parts of a contact cell that are neither a valid phone number, an email address nor a
    WeChat ID (see :func:`wechat_id`; ``channel`` is the ticket's 反馈渠道)."""
    bad = []
    for part in split_contacts(contact_text(value)):
        if "@" in part:
            if not _EMAIL.match(part):
                bad.append(part)
        elif not (_PHONEISH.match(part) and is_valid_phone(part)) and wechat_id(part, str(channel or "")) is None:
            bad.append(part)
    return bad


# --- masking for copies that leave the team ---------------------------------------------------
#
# Text is matched on a normalised view (NFKC, every Unicode decimal digit as ASCII, case folded) so
# full-width digits, ＠ and SHOUTED names are found; only the matched stretches of the original are
# replaced, so the rest of the text keeps its full-width punctuation.

#: separators people put inside a number: spaces, dashes, dots, slashes, brackets (up to three in a row)
_SEP = r"[\s\-\u2010-\u2015\u2212./_()]"
_DIGIT_RUN = re.compile(r"(?<![0-9])(?:\+\s?)?\(?[0-9](?:" + _SEP + r"{0,3}[0-9])*")
#: a WeChat ID named in free text (on the normalised view: NFKC, lower case): 微信：abc_123, wx abc_123
_MASKED_TEXT_WECHAT = re.compile(r"(?:微信号?|企业微信|v信|(?<![a-z0-9])(?:wx|vx|wechat|weixin))\s*(?:id|号)?\s*:?\s*"
                                 r"([a-z][a-z0-9_\-]{5,19})(?![a-z0-9_\-@.])")
_MASKED_EMAIL = re.compile(r"(?<![a-z0-9._%+\-])[a-z0-9._%+\-]+\s?@\s?[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
#: shapes of digit runs that are not contact details: dates (2026-11-05, 2026.11.05) and ticket IDs
_DATE_HEAD = re.compile(r"(?:19|20)[0-9]{2}([\-./])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])")
_TICKET_ID = re.compile(r"[0-9]{4}(?:0[1-9]|1[0-2])-[0-9]{3,}")
#: digit runs shorter than this are left alone (a quantity, an amount, a time)
MIN_MASKED_DIGITS = 7
#: the longest a phone number gets, prefix included (0086 + 0 + area code + subscriber)
_MAX_NUMBER_DIGITS = 17
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 呼延 澹台 公冶 "
    "万俟 闻人 赫连 申屠 太史 仲孙 钟离 宗政 濮阳 淳于 单于 百里 东郭 拓跋".split())
#: words of a Latin-script customer name that are not masked when they stand alone
_NAME_STOPWORDS = frozenset("co ltd inc corp llc gmbh company group the and of mr mrs ms dr".split())


def _normalised(text: str) -> tuple[str, list[int]]:
    """The matching view of ``text`` and, for each of its characters, the index of the original one."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii():
            piece = ch.lower()
        else:
            digit = unicodedata.decimal(ch, None)
            piece = str(digit) if digit is not None else unicodedata.normalize("NFKC", ch).casefold()
        out.append(piece)
        origin.extend([i] * len(piece))
    return "".join(out), origin


def normalise(text: str) -> str:
    """NFKC, ASCII digits, case folded: the form masking matches on."""
    return _normalised(text)[0]


@functools.lru_cache(maxsize=4096)
def _cn_number(digits: str, plus: bool) -> tuple[str, int] | None:
    """(national number with its trunk 0 for landlines, digits to keep at the head) of a valid Chinese
    number, with or without +86 / 0086 / 86; None for anything else."""
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, "CN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        return None
    national = str(number.national_number)
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
        area = phonenumbers.length_of_geographical_area_code(number) or 3
        return "0" + national, 1 + area
    return national, 3


@functools.lru_cache(maxsize=1024)
def _foreign(digits: str) -> bool:
    """A valid number of another country, typed with its + prefix."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    return number.country_code != 86 and phonenumbers.is_valid_number(number)


def _mask_digits(digits: str, plus: bool = False) -> str:
    cn = _cn_number(digits, plus)
    if cn is not None:
        national, head = cn
        return national[:head] + "*" * (len(national) - head - 4) + national[-4:]
    if len(digits) < MIN_MASKED_DIGITS:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_phone(text: str) -> str:
    """``13812345678`` → ``138****5678`` (also typed ``+86 138-1234-5678``, ``0086…`` or in full-width
    digits); landlines keep ``0`` + area code and the last four digits; any other number keeps only its
    last four digits."""
    norm = normalise(text).strip()
    digits = re.sub(r"[^0-9]", "", norm)
    if not digits:
        return "***" if norm else ""
    return _mask_digits(digits, norm.startswith("+"))


def mask_email(text: str) -> str:
    """``wang.li@example.com`` → ``w***@example.com`` (also with a full-width ＠)."""
    norm = normalise(text).strip()
    local, at, domain = norm.partition("@")
    return (local.strip()[:1] + "***@" + domain.strip()) if at and domain.strip() else mask_phone(text)


def mask_wechat(wechat: str) -> str:
    """``abc_123`` → ``wx:ab***23`` (a phone number used as the WeChat ID is masked as a phone)."""
    if wechat[:1].isdigit() or wechat[:1] == "+":
        return "wx:" + mask_phone(wechat)
    return "wx:" + wechat[:2] + "***" + (wechat[-2:] if len(wechat) >= 6 else "")


def mask_contact(value: object, channel: object = "") -> str:
    def one(part: str) -> str:
        if "@" in normalise(part):
            return mask_email(part)
        wechat = wechat_id(part, str(channel or ""))
        if wechat is None and _WECHAT_ID.match(unicodedata.normalize("NFKC", part).strip()):
            wechat = part.strip()  # an ID-shaped word: whatever it is, it is masked like one
        return mask_wechat(wechat) if wechat is not None else mask_phone(part)

    return " / ".join(one(p) for p in split_contacts(contact_text(value)))


def mask_name(value: object) -> str:
    """``王小明`` → ``王**``: the first character, then one star per remaining character."""
    text = contact_text(value)
    if len(text) <= 1:
        return text
    return text[0] + "*" * (len(text) - 1)


def _is_cjk(ch: str) -> bool:
    return unicodedata.category(ch) == "Lo" and not ch.isascii()


def _name_patterns(name: str) -> list[tuple[re.Pattern[str], bool]]:
    """(pattern on the normalised view, whole name?) for a customer name: the whole name in any case,
    with or without spaces, and its given name typed alone (see :func:`scrub_text`)."""
    norm = " ".join(normalise(name).split())
    tokens = [t for t in re.split(r"[\s·・.\-_]+", norm) if t]
    if len("".join(tokens)) < 2:
        return []

    def token_re(token: str) -> str:
        return r"\s*".join(re.escape(ch) for ch in token) if all(_is_cjk(c) for c in token) else re.escape(token)

    def bounded(body: str, first: str, last: str) -> str:
        head = r"(?<![a-z0-9])" if first.isascii() and first.isalnum() else ""
        tail = r"(?![a-z0-9])" if last.isascii() and last.isalnum() else ""
        return head + body + tail

    joined = "".join(tokens)
    out = [(re.compile(bounded(r"[\s·・.\-_]*".join(token_re(t) for t in tokens), joined[0], joined[-1])), True)]
    if len(tokens) == 1 and 2 <= len(joined) <= 4 and all(_is_cjk(c) for c in joined):
        surname = joined[:2] if joined[:2] in _COMPOUND_SURNAMES else joined[:1]
        given = joined[len(surname):]
        if len(given) >= 2:
            out.append((re.compile(token_re(given)), False))
    elif 2 <= len(tokens) <= 3 and all(re.fullmatch(r"[a-z][a-z']*", t) for t in tokens):
        for t in tokens:
            if len(t) >= 2 and t not in _NAME_STOPWORDS:
                out.append((re.compile(bounded(re.escape(t), t[0], t[-1])), False))
    return out


def _mask_run(run: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) within a run of digit groups: valid Chinese numbers first (the longest
    that starts at each group, so two numbers typed side by side stay two), dates and ticket IDs kept,
    every other stretch of 7 or more digits masked to its last four."""
    groups = [(g.start(), g.end()) for g in re.finditer(r"[0-9]+", run)]
    plus = run.startswith("+")
    if plus and _foreign(re.sub(r"[^0-9]", "", run)):
        return [(0, len(run), _mask_digits(re.sub(r"[^0-9]", "", run)))]
    out: list[tuple[int, int, str]] = []
    pending: list[int] = []  # groups that are neither a number nor a date/ID, masked together

    def flush() -> None:
        digits = "".join(run[groups[k][0]:groups[k][1]] for k in pending)
        if len(digits) >= MIN_MASKED_DIGITS:
            out.append((groups[pending[0]][0], groups[pending[-1]][1], _mask_digits(digits)))
        pending.clear()

    i = 0
    while i < len(groups):
        at = groups[i][0]
        kept = _DATE_HEAD.match(run, at) or _TICKET_ID.match(run, at)
        if kept and (kept.end() == len(run) or not run[kept.end()].isdigit()):
            flush()
            i += sum(1 for g in groups[i:] if g[1] <= kept.end())
            continue
        last, width = i, groups[i][1] - groups[i][0]
        while last + 1 < len(groups) and width + groups[last + 1][1] - groups[last + 1][0] <= _MAX_NUMBER_DIGITS:
            last += 1
            width += groups[last][1] - groups[last][0]
        for j in range(last, i - 1, -1):
            digits = "".join(run[g[0]:g[1]] for g in groups[i:j + 1])
            if MIN_MASKED_DIGITS <= len(digits) <= _MAX_NUMBER_DIGITS and _cn_number(digits, plus and i == 0):
                flush()
                first = 0 if i == 0 and (plus or ")" in run[:groups[j][1]]) else at
                out.append((first, groups[j][1], _mask_digits(digits, plus and i == 0)))
                i = j + 1
                break
        else:
            pending.append(i)
            i += 1
    flush()
    return out


def scrub_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text with every contact detail and the customer's name masked.

    - email addresses (also with ＠ or full-width letters) → ``w***@example.com``;
    - every run of 7 or more digits, separators allowed inside (``139.0000.2222``, ``(010)12345678``,
      ``0086 137 0000 1111``, full-width digits): a valid Chinese number as ``138****5678`` /
      ``010****5678``, anything else (order, card, ID-card numbers) keeps only its last four digits;
      dates (``2026-11-05``) and ticket IDs (``202611-001``) are left alone;
    - each customer name in any case or spacing (``ZHANG WEI``, ``zhang wei``) → ``Z********``, and its
      given name typed alone (``娜娜`` of ``王娜娜``; ``Wei`` of ``Zhang Wei``) → ``**``.
    """
    if not text:
        return text
    norm, origin = _normalised(text)
    spans: list[tuple[int, int, str]] = []  # (start, end) in the normalised view, replacement

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    for m in _MASKED_TEXT_WECHAT.finditer(norm):
        spans.append((m.start(1), m.end(1), mask_wechat(m.group(1)).removeprefix("wx:")))
    for m in _MASKED_EMAIL.finditer(norm):
        local, _, domain = m.group(0).partition("@")
        spans.append((m.start(), m.end(), local.strip()[:1] + "***@" + domain.strip()))
    for m in _DIGIT_RUN.finditer(norm):
        for start, end, replacement in _mask_run(m.group(0)):
            if free(m.start() + start, m.start() + end):
                spans.append((m.start() + start, m.start() + end, replacement))
    for name in names:
        for pattern, whole in _name_patterns(name):
            for m in pattern.finditer(norm):
                if free(m.start(), m.end()):
                    original = text[origin[m.start()]:origin[m.end() - 1] + 1]
                    spans.append((m.start(), m.end(), mask_name(original) if whole else "*" * len(original)))
    if not spans:
        return text
    out, pos = [], 0
    for start, end, replacement in sorted(spans):
        first, last = origin[start], origin[end - 1] + 1
        out.append(text[pos:first])
        out.append(replacement)
        pos = last
    out.append(text[pos:])
    return "".join(out)


# --- the same customer by contact ---------------------------------------------------------------

_NATIONAL = re.compile(r"^(?:0086|86)(?=1\d{10}$)")


def contact_keys(value: object) -> tuple[str, ...]:
    """The contact cell's numbers and addresses in one comparable form each: a mobile as its 11
    digits (with or without +86), any other number as its digits, an e-mail case folded, a WeChat ID
    without its prefix (``微信：abc_123`` and ``wx: abc_123`` are one customer), anything else case
    folded without spaces. Parts too short to name one customer are left out."""
    keys: list[str] = []
    for part in split_contacts(contact_text(value)):
        text = normalise(part).strip()
        wechat = wechat_id(part)
        if wechat is not None and not _PHONEISH.match(wechat):
            text = normalise(wechat).strip()
        elif wechat is not None:
            text = wechat
        if "@" in text:
            key = text.replace(" ", "")
        elif _PHONEISH.match(text):
            key = _NATIONAL.sub("", re.sub(r"\D", "", text))
            if len(key) < MIN_MASKED_DIGITS:
                continue
        else:
            key = re.sub(r"\s+", "", text)
            if len(key) < 6:
                continue
        if key not in keys:
            keys.append(key)
    return tuple(keys)
