"""The matrix's answers for 复合型 tickets and for batches without a product model, with plain values."""

from sheetdesk.rules.contacts import contact_keys
from sheetdesk.rules.routing import Matrix, MatrixEntry


def entry(row, category, department, keywords, subcategory=""):
    return MatrixEntry(row, category, subcategory, department, "", "", "P2", tuple(keywords.split(",")))


MATRIX = Matrix([entry(2, "产品质量类", "维修部", "损坏,故障"), entry(3, "物流类", "物流部", "物流,快递"),
                 entry(4, "服务体验类", "客户服务部", "态度"), entry(5, "其他类", "客户服务部", "发票"),
                 entry(6, "售后类", "客户服务部", "退货", "退货"), entry(7, "售后类", "客户服务部", "换货,调换", "换货")])


def test_a_compound_tickets_collaborators_are_its_other_categories_departments_once_each():
    assert MATRIX.collaborators_of(["产品质量类", "物流类"]) == "物流部"
    assert MATRIX.collaborators_of(["产品质量类", "服务体验类", "其他类", "物流类"]) == "客户服务部、物流部"
    assert MATRIX.collaborators_of(["服务体验类", "其他类"]) == ""       # the lead's own department is no collaborator
    assert MATRIX.collaborators_of(["产品质量类", "未知类"]) == ""
    assert MATRIX.collaborators_of(["产品质量类"]) == ""


def test_the_batch_key_is_the_matching_row_its_subcategory_or_its_category():
    # a one-row category's keywords are synonyms: any of them is the category
    assert MATRIX.keyword_of("物流类", "物流延迟，快递三天没到") == MATRIX.keyword_of("物流类", "快递没到") == "物流类"
    assert MATRIX.keyword_of("物流类", "发票开错了") == ""
    assert MATRIX.keyword_of("售后类", "想调换一个颜色") == "换货"
    assert MATRIX.keyword_of("未知类", "物流") == ""


def test_contact_keys_name_one_customer_however_the_number_is_written():
    assert contact_keys("138 1234 5678") == contact_keys("+86 13812345678") == contact_keys(13812345678.0) \
        == ("13812345678",)
    assert contact_keys("010-1234 5678；Wang@Example.com") == ("01012345678", "wang@example.com")
    assert contact_keys("12") == () and contact_keys(None) == ()


def test_a_wechat_id_is_one_customer_whatever_its_prefix():
    assert contact_keys("微信：Abc_123") == contact_keys("wx: abc_123") == contact_keys("WeChat abc_123") \
        == ("abc_123",)
    assert contact_keys("微信：13812345678") == contact_keys("138-1234-5678") == ("13812345678",)
