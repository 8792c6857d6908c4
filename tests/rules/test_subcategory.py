"""routing.subcategory_of: which matrix subcategory a ticket falls in, for the 不满意TOP3."""

from __future__ import annotations

from sheetdesk.rules.routing import Matrix, MatrixEntry, subcategory_of


def entry(row, category, sub, keywords=()):
    return MatrixEntry(row, category, sub, "", "", "", "", tuple(keywords))


MATRIX = Matrix([entry(2, "物流类", "发货延迟、丢件、错发漏发", ("快递", "发货", "错发")),
                 entry(3, "产品质量类", "外观", ("裂", "划痕")), entry(4, "产品质量类", "功能", ("无法开机",))])


def test_the_named_item_then_the_matched_keyword_else_none():
    assert subcategory_of(MATRIX, "物流类", "发货延迟三天") == "发货延迟"
    assert subcategory_of(MATRIX, "物流类", "快递没到") == "快递"      # no item holds the keyword: the keyword
    assert subcategory_of(MATRIX, "物流类", "快递催了还不发货") == "发货延迟"  # the matched keyword's item
    assert subcategory_of(MATRIX, "物流类", "型号错发") == "错发漏发"
    assert subcategory_of(MATRIX, "产品质量类", "机器无法开机") == "功能"  # several rows: by keywords
    assert subcategory_of(MATRIX, "产品质量类,物流类", "外壳有裂纹") == "外观"  # the lead category of a 复合型
    assert subcategory_of(MATRIX, "其他类", "发货延迟") == "" and subcategory_of(MATRIX, "", "x") == ""


def test_the_item_a_keyword_belongs_to():
    from sheetdesk.rules.routing import item_of_keyword
    items = ["服务态度", "响应速度", "流程"]
    assert item_of_keyword("流程繁琐", items) == "流程"      # the keyword holds the item
    assert item_of_keyword("响应慢", items) == "响应速度"    # they share 响应
    assert item_of_keyword("服务差", items) == "服务态度"
    assert item_of_keyword("推诿", items) == ""              # nothing in common
