"""Is a statement Snowflake SQL? The gate the local stand-in applies to every statement it is sent,
and ``tests/unit/test_snowflake_grammar.py`` to every template rendered in all its variants.

fakesnow runs on DuckDB, which accepts much that Snowflake refuses: a DuckDB-only function or
statement that slipped into a template would pass every local test and fail on the first deploy.
A statement passes when:

- sqlglot parses it with the Snowflake dialect in strict mode (``ErrorLevel.RAISE``: every error
  reported, none skipped);
- sqlglot did not fall back to an unparsed command, unless the statement is one of the Snowflake
  commands sqlglot does not model (``COMMANDS``, each a documented Snowflake statement);
- every function sqlglot does not know is a Snowflake function (``FUNCTIONS``, each on Snowflake's
  function reference: https://docs.snowflake.com/en/sql-reference/functions-all);

``lint`` adds what compiles on Snowflake but answers differently than it seems: no integer cut from
a division (``floor(a / b)``; https://docs.snowflake.com/en/sql-reference/operators-arithmetic).

Only the standard library and sqlglot: nothing here needs the stand-in.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to a command" warnings: reported here

# Snowflake statements sqlglot parses as an opaque command, by their leading words
# (https://docs.snowflake.com/en/sql-reference/sql-all).
COMMANDS = (
    "alter file format",
    "alter session",
    "alter user",
    "create or alter file format",
    "create role",
    "create user",
    "describe",
    "desc",
    "explain",
    "grant",
    "list",
    "put",
    "remove",
    "revoke",
    "show",
    "use",
)
# The functions the platform's SQL may call, as sqlglot writes them in Snowflake's dialect. Each is
# on https://docs.snowflake.com/en/sql-reference/functions-all; sqlglot also parses DuckDB's own
# (READ_CSV, COLUMNS, LIST_VALUE, EPOCH_MS...) in any dialect, so a name must be listed here to
# pass. A new function: check it on that page, then add it.
FUNCTIONS = frozenset(
    {
        *("ABS", "CAST", "COALESCE", "CONCAT", "CONCAT_WS", "COUNT", "COUNT_IF", "CURRENT_DATE", "CURRENT_TIMESTAMP"),
        *("CURRENT_ROLE", "CURRENT_SECONDARY_ROLES", "CURRENT_USER", "CURRENT_WAREHOUSE", "DATEADD", "DATEDIFF"),
        *("DATE_TRUNC", "DAYOFMONTH", "DAYOFWEEKISO", "DIV0", "FLOOR", "GREATEST", "HASH", "IFF", "IS_ROLE_IN_SESSION"),
        *("LAG", "LEAD", "LEAST", "LOWER", "MAX", "MD5", "MEDIAN", "MIN", "MONTH", "NULLIF", "QUARTER", "RANK"),
        *("RATIO_TO_REPORT", "ROUND", "ROW_NUMBER", "SUM", "SYSDATE", "TO_CHAR", "TO_DATE", "TRIM", "TRY_CAST"),
        *("TRY_TO_DATE", "TRY_TO_NUMBER", "TRY_TO_TIMESTAMP", "TRY_TO_TIMESTAMP_NTZ", "UPPER", "YEAR", "AVG", "STDDEV"),
        *("SUBSTRING", "SUBSTR", "PARSE_JSON", "TO_VARCHAR", "TO_NUMBER", "TO_TIMESTAMP", "TO_TIMESTAMP_NTZ", "LENGTH"),
        *("REPLACE", "SPLIT_PART", "REGEXP_LIKE", "REGEXP_SUBSTR", "ARRAY_AGG", "LISTAGG", "OBJECT_CONSTRUCT"),
        *("ANY_VALUE", "APPROX_COUNT_DISTINCT", "STDDEV_POP", "VARIANCE", "MODE", "PERCENTILE_CONT", "NTILE"),
        *("DENSE_RANK", "FIRST_VALUE", "LAST_VALUE", "BOOLAND_AGG", "BOOLOR_AGG", "SIGN", "SQRT", "LN", "LOG", "EXP"),
        *("POWER", "CEIL", "TRUNC", "DATE_PART", "LAST_DAY", "DAYNAME", "WEEK", "DAYOFWEEK", "CURRENT_TIME"),
        *("UUID_STRING", "CHARINDEX", "POSITION", "CONTAINS", "STARTSWITH", "ENDSWITH", "LPAD", "RPAD", "INITCAP"),
        *("ZEROIFNULL", "NVL", "NVL2", "DECODE", "TRY_TO_DECIMAL", "TRY_TO_BOOLEAN", "TO_BOOLEAN", "DATE_FROM_PARTS"),
        *("ARRAY_SIZE", "ARRAY_CONSTRUCT", "FLATTEN", "GET", "OBJECT_KEYS", "GENERATOR", "SEQ4", "UNIFORM", "RANDOM"),
        *("SUM_IF", "AVG_IF", "MAX_BY", "MIN_BY", "REGR_SLOPE", "CORR", "COVAR_POP", "HASH_AGG", "SHA2"),
    }
)
# Data types as sqlglot writes them in Snowflake's dialect
# (https://docs.snowflake.com/en/sql-reference/intro-summary-data-types).
TYPES = frozenset(
    {"BOOLEAN", "DATE", "DECIMAL", "NUMBER", "INT", "BIGINT", "DOUBLE", "FLOAT", "VARCHAR", "TEXT", "TIMESTAMPNTZ"}
    | {"TIMESTAMPLTZ", "TIMESTAMPTZ", "TIMESTAMP", "TIME", "VARIANT", "OBJECT", "ARRAY", "BINARY"}
)
# What a statement may be, at its top (anything else - a bare name, an expression - is not one)
STATEMENTS = (
    exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy,
    exp.Create, exp.Alter, exp.Drop, exp.TruncateTable, exp.Transaction, exp.Commit, exp.Rollback, exp.Command,
    exp.Grant, exp.Revoke, exp.Use, exp.Describe, exp.Show, exp.Set, exp.Put, exp.ListStage, exp.Comment,
)  # fmt: skip
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")
_NOT_CALLS = (exp.Binary, exp.Unary, exp.Predicate, exp.Connector, exp.Case, exp.Window, exp.Subquery)
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.DOTALL)


def _head(sql: str) -> str:
    return " ".join(_LEADING_COMMENTS.sub("", sql, count=1).split()).lower()


@lru_cache(maxsize=4096)
def problems(sql: str) -> tuple[str, ...]:
    """Why ``sql`` (one statement) is not Snowflake SQL; empty when it is."""
    head = _head(sql)
    if not head.rstrip(";"):
        return ()
    try:
        parsed = sqlglot.parse(sql, read="snowflake", error_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        return (f"Snowflake's grammar does not parse it: {str(exc).splitlines()[0]}",)
    found: list[str] = []
    for tree in parsed:
        if tree is None or isinstance(tree, exp.Semicolon):  # a comment after the statement's ";"
            continue
        if not isinstance(tree, STATEMENTS) or (isinstance(tree, exp.Command) and not head.startswith(COMMANDS)):
            found.append(f"not a Snowflake statement: {head[:60]!r}")
            continue
        for call in tree.find_all(exp.Func):
            if isinstance(call, _NOT_CALLS):
                continue
            named = _CALL.match(call.sql(dialect="snowflake"))
            if named and named[1].upper() not in FUNCTIONS:
                found.append(
                    f"{named[1].upper()}() is not a Snowflake function (or not in snowflake_grammar.FUNCTIONS)"
                )
        for kind in tree.find_all(exp.DataType):
            name = kind.sql(dialect="snowflake").split("(")[0].strip().upper()
            if name and name not in TYPES and kind.this != exp.DataType.Type.USERDEFINED:
                found.append(f"{name} is not a Snowflake data type (or not in snowflake_grammar.TYPES)")
    return tuple(found)


@lru_cache(maxsize=4096)
def lint(sql: str) -> tuple[str, ...]:
    """Snowflake SQL that compiles but gives another answer than the local stand-in would suggest:
    an integer cut from a division (``floor(a / b)``). Snowflake divides fixed-point numbers to a
    scale of 6, so such a floor is one too high where ``a / b`` is within 5e-7 below the next
    integer; products of integers are exact everywhere. (The stand-in rounds integer divisions the
    same way, where it can tell the operands are integers: local/fakesnow_snowflake.py.)"""
    try:
        parsed = sqlglot.parse(sql, read="snowflake", error_level=ErrorLevel.RAISE)
    except SqlglotError:
        return ()
    found = []
    for tree in filter(None, parsed):
        for cut in (*tree.find_all(exp.Floor), *tree.find_all(exp.Ceil)):
            inner = cut.this.this if isinstance(cut.this, exp.Paren) else cut.this
            if isinstance(inner, exp.Div):
                found.append(
                    f"{cut.sql(dialect='snowflake')[:80]}: an integer cut from a division, which Snowflake "
                    "rounds to 6 decimals first; compare products of integers instead"
                )
    return tuple(found)
