"""The per-type SELECT expressions: which literal form each column type gets, and escaping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dumper.backup.keyset import keyset_condition
from dumper.backup.objects import unqualify_sequences, unqualify_trigger, view_order
from dumper.backup.values import (
    Column,
    chunk_literal_expr,
    empty_literal,
    escape_cr,
    key_literal_expr,
    literal_expr,
    quote_ident,
    quote_string,
    row_expr,
)


def test_identifiers_double_backticks() -> None:
    assert quote_ident("a`b c.d") == "`a``b c.d`"
    assert quote_ident("日本") == "`日本`"


def test_quote_string_escapes_quotes_and_backslashes() -> None:
    assert quote_string("it's \\ x") == "'it''s \\\\ x'"


@pytest.mark.parametrize("data_type", ["tinyint", "int", "bigint", "decimal", "double", "year"])
def test_numbers_are_written_as_the_server_prints_them(data_type: str) -> None:
    assert literal_expr(Column("n", data_type, nullable=False)) == "`n`"
    assert literal_expr(Column("n", data_type)) == "IFNULL(`n`,'NULL')"


def test_float_is_read_as_double_to_keep_every_digit() -> None:
    assert "CAST(`f` AS DOUBLE)" in literal_expr(Column("f", "float"))


def test_bit_is_written_as_a_bit_literal() -> None:
    expr = literal_expr(Column("b", "bit"))
    assert "BIN(`b`)" in expr and "b'''" in expr and "IS NULL" in expr


@pytest.mark.parametrize("data_type", ["date", "datetime", "timestamp", "time"])
def test_temporal_values_are_quoted_text(data_type: str) -> None:
    assert literal_expr(Column("t", data_type)) == "QUOTE(`t`)"


@pytest.mark.parametrize(
    "col",
    [
        Column("b", "blob"),
        Column("b", "varbinary"),
        Column("b", "binary"),
        Column("g", "geometry"),
        Column("p", "point"),
        Column("c", "varchar", charset="binary"),
    ],
)
def test_binary_strings_and_spatial_values_are_hex_literals(col: Column) -> None:
    expr = literal_expr(col)
    assert "HEX(" in expr and "X'''" in expr and "QUOTE" not in expr


def test_utf8mb4_text_is_quoted_without_conversion() -> None:
    assert literal_expr(Column("s", "varchar", charset="utf8mb4")) == (
        "QUOTE(`s`) COLLATE utf8mb4_bin"
    )


@pytest.mark.parametrize("charset", ["latin1", "utf8mb3", "ascii"])
def test_text_in_lossless_charsets_is_converted_to_utf8mb4(charset: str) -> None:
    assert literal_expr(Column("s", "text", charset=charset)) == (
        "QUOTE(CONVERT(`s` USING utf8mb4)) COLLATE utf8mb4_bin"
    )


@pytest.mark.parametrize("charset", ["cp1251", "sjis", "ucs2", "utf16", "utf32", "gbk", "big5"])
def test_text_in_other_charsets_is_hex_with_its_introducer(charset: str) -> None:
    for data_type in ("varchar", "text", "enum", "set"):
        expr = literal_expr(Column("s", data_type, charset=charset))
        assert f"'_{charset} X'''" in expr and "HEX(`s`)" in expr and "QUOTE" not in expr


def test_json_is_quoted_text() -> None:
    assert literal_expr(Column("j", "json")) == "QUOTE(`j`) COLLATE utf8mb4_bin"
    assert literal_expr(Column("j", "longtext", charset="utf8mb4", json=True)) == (
        "QUOTE(`j`) COLLATE utf8mb4_bin"
    )


def test_unknown_types_fall_back_to_their_text_form() -> None:
    assert literal_expr(Column("i", "inet6")) == (
        "QUOTE(CONVERT(`i` USING utf8mb4)) COLLATE utf8mb4_bin"
    )


def test_enum_with_an_empty_member_is_written_by_index() -> None:
    col = Column("e", "enum", "enum('','a')", charset="utf8mb4")
    assert literal_expr(col) == "IFNULL(`e`+0,'NULL')"
    plain = Column("e", "enum", "enum('a','b')", charset="utf8mb4")
    assert literal_expr(plain) == "QUOTE(`e`) COLLATE utf8mb4_bin"


def test_row_is_one_concat_of_the_column_literals() -> None:
    expr = row_expr([Column("a", "int", nullable=False), Column("b", "blob", nullable=False)])
    assert expr == "CONCAT('(',`a`,',',CONCAT('X''',HEX(`b`),''''),')')"


def test_key_literals_keep_charset_and_collation_for_string_keys() -> None:
    col = Column("k", "varchar", charset="latin1", collation="latin1_german1_ci", nullable=False)
    assert key_literal_expr(col) == "CONCAT('_latin1 X''',HEX(`k`),''' COLLATE latin1_german1_ci')"
    assert key_literal_expr(Column("i", "bigint")) == "`i`"
    assert key_literal_expr(Column("d", "datetime")) == "QUOTE(`d`)"
    with pytest.raises(ValueError):
        key_literal_expr(Column("e", "enum", charset="utf8mb4"))


def test_chunks_of_big_values_are_substrings_in_the_same_literal_form() -> None:
    text = Column("t", "longtext", charset="utf8mb4")
    assert chunk_literal_expr(text, 1, 100) == (
        "QUOTE(CONVERT(SUBSTRING(`t`,1,100) USING utf8mb4)) COLLATE utf8mb4_bin"
    )
    blob = Column("b", "longblob")
    assert chunk_literal_expr(blob, 5, 10) == "CONCAT('X''',HEX(SUBSTRING(`b`,5,10)),'''')"
    assert empty_literal(text) == "''" and empty_literal(blob) == "X''"


def test_json_and_spatial_values_cannot_be_split() -> None:
    assert not Column("j", "json").splittable
    assert not Column("g", "geometry").splittable
    assert Column("b", "longblob").splittable
    assert Column("t", "text", charset="utf8mb4").splittable


def test_escape_cr_writes_carriage_returns_as_escapes() -> None:
    assert escape_cr(b"('a\r\nb')") == b"('a\\r\nb')"
    same = b"(1,'x')"
    assert escape_cr(same) is same


@given(st.text())
def test_escape_cr_leaves_no_raw_carriage_return(text: str) -> None:
    out = escape_cr(text.encode())
    assert b"\r" not in out
    assert out.replace(b"\\r", b"\r") == text.encode().replace(b"\\r", b"\r")


def test_keyset_condition_spells_out_composite_comparisons() -> None:
    assert keyset_condition(["`a`"], ["1"], None) == "`a` > 1"
    assert keyset_condition(["`a`"], ["1"], ["5"]) == "`a` > 1 AND `a` <= 5"
    assert keyset_condition(["`a`", "`b`"], ["1", "2"], None) == (
        "`a` >= 1 AND (`a` > 1 OR (`a` = 1 AND `b` > 2))"
    )
    assert keyset_condition(["`a`", "`b`"], None, ["3", "4"]) == (
        "`a` <= 3 AND (`a` < 3 OR (`a` = 3 AND `b` <= 4))"
    )
    assert keyset_condition(["`a`"], None, None) == "1=1"


def test_views_come_after_the_views_they_use() -> None:
    defs = {
        "a_top": "CREATE VIEW `a_top` AS select * from `m_mid` join `t`",
        "m_mid": "CREATE VIEW `m_mid` AS select * from `z_base`",
        "z_base": "CREATE VIEW `z_base` AS select 1 AS `x`",
        "alone": "CREATE VIEW `alone` AS select 2 AS `y`",
    }
    order = view_order(defs)
    assert order.index("z_base") < order.index("m_mid") < order.index("a_top")
    assert sorted(order) == sorted(defs)


def test_view_order_survives_a_cycle() -> None:
    defs = {"a": "VIEW `a` AS select * from `b`", "b": "VIEW `b` AS select * from `a`"}
    assert sorted(view_order(defs)) == ["a", "b"]


def _view(name: str, *uses: str) -> str:
    source = ", ".join(f"`{u}`" for u in uses) if uses else "dual"
    return f"CREATE VIEW `{name}` AS select * from {source}"


# The expected orders are what the hand-written sort before graphlib gave: the bytes of a dump
# stay the same.
def test_view_order_of_a_chain_puts_ready_views_in_name_order() -> None:
    defs = {
        "a_top": _view("a_top", "m_mid"),
        "m_mid": _view("m_mid", "z_base"),
        "z_base": _view("z_base"),
        "b_free": _view("b_free"),
    }
    assert view_order(defs) == ["b_free", "z_base", "m_mid", "a_top"]


def test_view_order_breaks_a_cycle_at_the_first_name_left() -> None:
    assert view_order({"a": _view("a", "b"), "b": _view("b", "a")}) == ["a", "b"]
    # b <-> c block a (and top, which uses a): a goes first as the first name left, then top
    # is ready; the cycle is broken again at b
    defs = {
        "a": _view("a", "c"),
        "b": _view("b", "c"),
        "c": _view("c", "b"),
        "base": _view("base"),
        "top": _view("top", "a"),
    }
    assert view_order(defs) == ["base", "a", "top", "b", "c"]


def test_sequence_defaults_lose_the_source_database_name() -> None:
    create = "`id` int NOT NULL DEFAULT nextval(`shop`.`seq`), `x` int DEFAULT NEXTVAL(`shop`.`s2`)"
    assert unqualify_sequences(create, "shop") == (
        "`id` int NOT NULL DEFAULT nextval(`seq`), `x` int DEFAULT NEXTVAL(`s2`)"
    )
    other = "DEFAULT nextval(`other`.`seq`)"
    assert unqualify_sequences(other, "shop") == other


def test_triggers_lose_the_source_database_in_their_name_and_table_only() -> None:
    plain = (
        "CREATE DEFINER=`root`@`%` trigger shop.trg before insert on shop.t"
        " for each row set new.a = (select max(a) from shop.t)"
    )
    assert unqualify_trigger(plain, "shop") == (
        "CREATE DEFINER=`root`@`%` trigger trg before insert on t"
        " for each row set new.a = (select max(a) from shop.t)"
    )
    quoted = "CREATE TRIGGER `my db`.`t``x` AFTER DELETE ON `my db` . `t` FOR EACH ROW DO 1"
    assert unqualify_trigger(quoted, "my db") == (
        "CREATE TRIGGER `t``x` AFTER DELETE ON `t` FOR EACH ROW DO 1"
    )
    other = "CREATE TRIGGER trg BEFORE INSERT ON shopx.t FOR EACH ROW DO 1"
    assert unqualify_trigger(other, "shop") == other
