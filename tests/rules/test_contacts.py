import pytest

from sheetdesk.rules.contacts import check_contact, mask_contact, mask_email, mask_name, mask_phone


@pytest.mark.parametrize("value", [13812345678, 13812345678.0, "138-1234-5678", "021-62345678", "0755 12345678",
                                   "400-123-4567", "+86 138 1234 5678", "wang@example.com",
                                   "13812345678 / wang@example.com", None, ""])
def test_valid_contacts(value):
    assert check_contact(value) == []


@pytest.mark.parametrize("value, bad", [("1381234", ["1381234"]), ("12345678901", ["12345678901"]),
                                        ("wang@", ["wang@"]), ("13812345678，abc", ["abc"])])
def test_invalid_contacts_name_the_bad_part(value, bad):
    assert check_contact(value) == bad


def test_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_email("wang.li@example.com") == "w***@example.com"
    assert mask_name("王小明") == "王**"
    assert mask_contact("13812345678 / wang@example.com") == "138****5678 / w***@example.com"
    assert "62345678" not in mask_contact("021-62345678")


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=500)
@given(st.from_regex(r"\A1[0-9]{10}\Z"))
def test_mobile_prefix_cache_agrees_with_phonenumbers(number):
    """Mobiles are checked against phonenumbers' own mobile pattern, else once per 7-digit prefix (fast on big
    registers); the answer must be exactly what phonenumbers says."""
    from sheetdesk.rules.contacts import _valid, is_valid_phone

    assert is_valid_phone(number) == _valid(number)


# --- WeChat ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, channel", [("微信：abc_123", ""), ("微信号 wang-li88", ""), ("wx: abc_123", ""),
                                            ("WX：Abc12345", ""), ("WeChat abc_123", ""), ("微信：13812345678", ""),
                                            ("abc_123", "微信"), ("wxid_abc123", "企业微信"),
                                            ("13812345678 / 微信：abc_123", "电话")])
def test_wechat_ids_are_contacts(value, channel):
    assert check_contact(value, channel) == []


@pytest.mark.parametrize("value, channel", [("abc_123", ""), ("abc_123", "电话"), ("微信：ab1", ""),
                                            ("微信：1abcdef", ""), ("wx: a" + "b" * 20, ""), ("abc_123!", "微信")])
def test_not_a_wechat_id(value, channel):
    """A bare ID counts only on a WeChat channel; WeChat IDs are 6–20 characters starting with a letter."""
    assert check_contact(value, channel) == [value]


def test_wechat_ids_are_masked():
    assert mask_contact("微信：abc_123") == "wx:ab***23"
    assert mask_contact("abc_123", "微信") == "wx:ab***23"
    assert mask_contact("13812345678 / wx: wang_li88") == "138****5678 / wx:wa***88"
    assert mask_contact("微信：13812345678") == "wx:138****5678"
    from sheetdesk.rules.contacts import scrub_text
    assert scrub_text("客户留了微信：wang_li88，请加") == "客户留了微信：wa***88，请加"
    assert scrub_text("wx abc_123 / email a@b.com") == "wx ab***23 / email a***@b.com"
