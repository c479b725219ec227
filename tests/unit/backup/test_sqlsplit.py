"""The statement splitter: client-compatible rules, line numbers, and chunking independence."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dumper.backup.sqlsplit import Statement, StatementSplitter, split_all
from dumper.errors import BackupCorrupt


def sqls(data: bytes) -> list[bytes]:
    return [s.sql for s in split_all(data)]


def split_in_pieces(data: bytes, cuts: list[int]) -> list[Statement]:
    splitter = StatementSplitter()
    out: list[Statement] = []
    prev = 0
    for cut in sorted(set(cuts)):
        out += splitter.feed(data[prev:cut])
        prev = cut
    out += splitter.feed(data[prev:])
    return out + splitter.finish()


def test_splits_on_semicolons_and_drops_the_delimiter():
    assert sqls(b"SELECT 1;\nSELECT 2;\n") == [b"SELECT 1", b"SELECT 2"]


def test_semicolons_inside_quotes_do_not_split():
    data = b"INSERT INTO t VALUES ('a;b',\"c;d\",`e;f`);\nSELECT 2;"
    assert sqls(data) == [b"INSERT INTO t VALUES ('a;b',\"c;d\",`e;f`)", b"SELECT 2"]


def test_backslash_and_doubled_quote_escapes_stay_inside_the_string():
    data = b"INSERT INTO t VALUES ('it\\'s;', 'it''s;', \"say \\\"x;\\\"\", 'end\\\\');SELECT 1;"
    assert sqls(data) == [
        b"INSERT INTO t VALUES ('it\\'s;', 'it''s;', \"say \\\"x;\\\"\", 'end\\\\')",
        b"SELECT 1",
    ]


def test_backslash_does_not_escape_inside_backticks():
    assert sqls(b"SELECT `a\\`;SELECT 2;") == [b"SELECT `a\\`", b"SELECT 2"]


def test_doubled_backtick_is_part_of_the_identifier():
    assert sqls(b"CREATE TABLE `a``;b` (x int);") == [b"CREATE TABLE `a``;b` (x int)"]


def test_comments_between_statements_are_dropped():
    data = b"-- header; not a statement\n# hash; comment\n/* block; \n comment */\nSELECT 1;\n"
    assert sqls(data) == [b"SELECT 1"]


def test_semicolon_inside_comments_within_a_statement_does_not_split():
    data = b"SELECT 1 -- a;b\n + 2 # c;d\n + /* e;f */ 3;"
    assert sqls(data) == [b"SELECT 1 -- a;b\n + 2 # c;d\n + /* e;f */ 3"]


def test_double_dash_without_space_is_not_a_comment():
    assert sqls(b"SELECT 1--1;SELECT 2;") == [b"SELECT 1--1", b"SELECT 2"]


def test_double_dash_followed_by_tab_or_newline_is_a_comment():
    assert sqls(b"--\tx;\n--\nSELECT 1;") == [b"SELECT 1"]


def test_executable_comments_are_statements_and_their_content_is_code():
    data = b"/*!40101 SET NAMES utf8mb4 */;\n/*M!100616 SET @x=';' */;\n/*!50001 VIEW*/;"
    assert sqls(data) == [
        b"/*!40101 SET NAMES utf8mb4 */",
        b"/*M!100616 SET @x=';' */",
        b"/*!50001 VIEW*/",
    ]


def test_mariadb_sandbox_line_is_skipped():
    data = (
        b"/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n"
        b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
    )
    got = split_all(data)
    assert [s.sql for s in got] == [
        b"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"
    ]
    assert got[0].line == 3


def test_delimiter_blocks_keep_inner_semicolons():
    data = (
        b"DELIMITER ;;\n"
        b"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW "
        b"BEGIN SET NEW.a=1; SET NEW.b=2; END ;;\n"
        b"DELIMITER ;\n"
        b"SELECT 1;\n"
    )
    got = split_all(data)
    assert [s.sql for s in got] == [
        b"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a=1; SET NEW.b=2; END",
        b"SELECT 1",
    ]
    assert [s.delimiter for s in got] == [b";;", b";"]
    assert [s.line for s in got] == [2, 4]


def test_delimiter_is_case_insensitive_and_allows_other_strings():
    data = b"delimiter //\nCREATE PROCEDURE p() BEGIN SELECT 1/2; END//\nDelimiter ;\nSELECT 3;"
    assert sqls(data) == [b"CREATE PROCEDURE p() BEGIN SELECT 1/2; END", b"SELECT 3"]


def test_line_numbers_count_newlines_inside_earlier_statements_and_strings():
    data = b"SELECT 'a\nb\nc';\n\n-- c\nSELECT\n2;\nSELECT 3;"
    assert [(s.sql, s.line) for s in split_all(data)] == [
        (b"SELECT 'a\nb\nc'", 1),
        (b"SELECT\n2", 6),
        (b"SELECT 3", 8),
    ]


def test_empty_statements_are_skipped():
    assert sqls(b";;\n ; SELECT 1;;") == [b"SELECT 1"]


def test_last_statement_without_delimiter_is_returned():
    assert sqls(b"SELECT 1;\nSELECT 2\n") == [b"SELECT 1", b"SELECT 2"]


def test_unterminated_string_at_end_is_an_error_with_its_line():
    with pytest.raises(BackupCorrupt, match="line 2"):
        split_all(b"SELECT 1;\nINSERT INTO t VALUES ('abc;\n")


def test_unterminated_block_comment_at_end_is_an_error():
    with pytest.raises(BackupCorrupt, match="comment"):
        split_all(b"SELECT 1;\n/* never closed\n")


def test_non_ascii_and_invalid_utf8_bytes_pass_through_untouched():
    data = b"INSERT INTO t VALUES ('\xc3\xa9\xff\x00;', X'00FF');"
    assert sqls(data) == [data[:-1]]


def test_long_strings_with_escapes_and_doubled_quotes_stay_whole():
    long = b"a;" * 300
    data = b"SELECT '" + long + b"\\'" + long + b"''" + long + b"', \"" + long + b'";SELECT 2;'
    assert sqls(data) == [data[: data.index(b";SELECT 2")], b"SELECT 2"]


def test_unterminated_long_string_at_end_is_an_error():
    with pytest.raises(BackupCorrupt, match="line 1"):
        split_all(b"INSERT INTO t VALUES ('" + b"x" * 5000 + b"\n")


def test_hash_inside_string_is_not_a_comment():
    assert sqls(b"SELECT '#';SELECT \"--  \";") == [b"SELECT '#'", b'SELECT "--  "']


def test_mysqldump_style_file_splits_like_the_client():
    data = b"""-- MySQL dump 10.13  Distrib 8.0.36
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!50503 SET NAMES utf8mb4 */;
DROP TABLE IF EXISTS `t`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
CREATE TABLE `t` (
  `id` int NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB;
LOCK TABLES `t` WRITE;
/*!40000 ALTER TABLE `t` DISABLE KEYS */;
INSERT INTO `t` VALUES (1),(2);
UNLOCK TABLES;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER `tr` BEFORE INSERT ON `t`
FOR EACH ROW SET @x = 1 */;
-- Dump completed on 2024-01-01 10:00:00
"""
    got = split_all(data)
    assert len(got) == 10
    assert got[4].sql.startswith(b"CREATE TABLE `t`") and got[4].line == 6
    assert got[7].sql == b"INSERT INTO `t` VALUES (1),(2)"


SQL_PIECES = [
    b"SELECT 1;",
    b"INSERT INTO `t` VALUES ('a;b\\'c', \"d\"\"e;\", X'00FF', -1, 2-3);",
    b"\n-- comment; here\n",
    b"# hash comment;\n",
    b"/* block; comment */",
    b"/*!40101 SET NAMES utf8mb4 */;",
    b"/*M!100616 SET @a=1 */;",
    b"SELECT 1--2;",
    b"SELECT 4/2 /* x */;",
    b"\nDELIMITER ;;\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;;\nDELIMITER ;\n",
    b"\nDELIMITER //\nSELECT 'x//';//\nDELIMITER ;\n",
    b"UPDATE t SET s='\xc3\xa9\n;';",
    b"SELECT `we``ird;`;",
    b"  ;",
    b"\n",
    b"INSERT INTO b VALUES (X'"
    + b"0A3B27" * 120
    + b"', '"
    + b"x;" * 200
    + b"\\';"
    + b"y" * 300
    + b"''');",
    b'SELECT "' + b"q;" * 150 + b'\\"' + b"z" * 400 + b'""";',
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(SQL_PIECES), min_size=1, max_size=25),
    data=st.data(),
)
def test_any_chunking_yields_the_same_statements_and_lines(pieces, data):
    script = b"".join(pieces)
    whole = split_all(script)
    cuts = data.draw(st.lists(st.integers(0, len(script)), max_size=40))
    assert split_in_pieces(script, cuts) == whole


@settings(max_examples=200)
@given(script=st.binary(max_size=300), data=st.data())
def test_any_chunking_of_arbitrary_bytes_agrees_with_one_piece(script, data):
    cuts = data.draw(st.lists(st.integers(0, len(script)), max_size=20))
    try:
        whole: list[Statement] | type[BackupCorrupt] = split_all(script)
    except BackupCorrupt:
        whole = BackupCorrupt
    try:
        pieces: list[Statement] | type[BackupCorrupt] = split_in_pieces(script, cuts)
    except BackupCorrupt:
        pieces = BackupCorrupt
    assert pieces == whole


def test_byte_by_byte_feeding_of_a_realistic_dump():
    script = b"".join(SQL_PIECES) * 3
    assert split_in_pieces(script, list(range(len(script)))) == split_all(script)


def test_a_backslash_ends_a_string_under_no_backslash_escapes_and_escapes_again_after() -> None:
    script = (
        b"SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES';\n"
        b"DELIMITER ;;\nCREATE FUNCTION f() RETURNS TEXT RETURN 'x\\'\n;;\nDELIMITER ;\n"
        b"/*!50003 SET sql_mode = '' */;\n"
        b"SELECT 'a\\';b';\n"
    )
    sqls = [s.sql for s in split_all(script)]
    assert sqls[1] == b"CREATE FUNCTION f() RETURNS TEXT RETURN 'x\\'"
    assert sqls[3] == b"SELECT 'a\\';b'"
    assert len(sqls) == 4
