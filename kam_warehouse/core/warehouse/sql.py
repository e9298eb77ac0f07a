"""SQL text helpers shared by every engine module: the one string-literal quoting (for statements that
take no parameters: SET, ATTACH, COMMENT ON, table functions) and placeholder translation (the steps
write `?`, DuckDB's and the DB-API qmark style; psycopg2 wants `%s` and every literal `%` doubled)."""

from __future__ import annotations


def string_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal (embedded quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def qmark_to_format(sql: str) -> str:
    """`?` outside quotes, identifiers and comments -> `%s`; every `%` -> `%%` (psycopg2 formats the
    whole string when it is given parameters, string literals included)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # doubled quote inside
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1].replace("%", "%%"))
            i = j + 1
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif c == "?":
            out.append("%s")
            i += 1
        elif c == "%":
            out.append("%%")
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)
