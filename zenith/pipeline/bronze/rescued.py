"""Auto Loader's rescued data column, computed where there is no Auto Loader: Spark's own file source.

Given a schema and ``rescuedDataColumn``, Auto Loader keeps every field of a JSON record that did not
fit the schema (a name the schema does not hold, even one that differs only in case, or a value of
another type) in that column, as a JSON object with the record's file under ``_file_path``; NULL when
everything fitted. The fields that fitted stay typed, and only a record that is not a JSON object is
corrupt. Spark's JSON reader has no such option, so locally bronze reads the event files as text and
parses each record itself, with the same JSON parser and the same options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from zenith.pipeline.bronze.event_files import listed

RESCUED = "_rescued_data"
FILE_PATH_KEY = "_file_path"  # the key under which Auto Loader adds the record's file
RECORD = "_record"  # the text of one JSON record


def json_records(text: Column) -> Column:
    """The JSON records in a line or a whole file: a JSON array's elements, else the text as one record.

    Spark's JSON reader reads a JSON array as one record per element, in a line as in a file.
    """
    elements = F.from_json(text, "ARRAY<STRING>")
    is_array = F.regexp_like(text, F.lit(r"^\s*\[")) & elements.isNotNull()
    # The parser gives a JSON null element as NULL; it stays a record, a corrupt one, as a null line is.
    return F.when(is_array, F.transform(elements, lambda e: F.coalesce(e, F.lit("null")))).otherwise(
        F.array(text)
    )


def parse_json_records(
    columns: Mapping[str, str], corrupt: str, file_path: Column
) -> Callable[[DataFrame], DataFrame]:
    """A transformation: text read by Spark's file source (``value``) -> one row per JSON record.

    Each row has ``columns`` (name -> SQL type) typed, ``corrupt`` (the record's text if it is not a JSON
    object, else NULL), ``_rescued_data`` as Auto Loader fills it, and the file source's ``_metadata``.
    Blank lines, like Spark's JSON reader skips them, give no row.
    """
    schema = ", ".join(f"{name} {kind}" for name, kind in columns.items()) + f", {corrupt} STRING"
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": corrupt}

    def parse(text: DataFrame) -> DataFrame:
        records = text.select(F.explode(json_records(F.col("value"))).alias(RECORD), "_metadata").where(
            ~F.regexp_like(F.col(RECORD), F.lit(r"^\s*$"))
        )
        parsed = records.select(
            RECORD,
            "_metadata",
            F.from_json(RECORD, schema, options).alias("_typed"),
            F.json_object_keys(RECORD).alias("_keys"),  # NULL unless the record is a JSON object
        )
        # A value the parser could not type leaves its field NULL and sets the corrupt column.
        failed = F.col(f"_typed.{corrupt}").isNotNull()
        has_unknown_key = F.size(F.array_except("_keys", F.array(*map(F.lit, columns)))) > 0
        unfitted = F.when(
            F.col("_keys").isNotNull() & (failed | has_unknown_key),
            F.map_filter(F.from_json(RECORD, "MAP<STRING,VARIANT>"), did_not_fit(F.col("_typed"), columns)),
        )
        checked = parsed.select("_typed", "_metadata", unfitted.alias("_unfitted"))
        has_rescued = F.coalesce(F.size("_unfitted") > 0, F.lit(False))
        return checked.select(
            *[F.col(f"_typed.{name}").alias(name) for name in columns],
            F.when(failed & ~has_rescued, F.col(f"_typed.{corrupt}")).alias(corrupt),
            F.when(has_rescued, with_file_path(F.to_json("_unfitted"), file_path)).alias(RESCUED),
            "_metadata",
        )

    return parse


def did_not_fit(typed: Column, columns: Iterable[str]) -> Callable[[Column, Column], Column]:
    """``(key, value) -> Column``: true for a field ``columns`` does not hold, or one ``typed`` holds as NULL
    though the record gave it a value (not a JSON null): a value the parser could not convert.

    Names are matched exactly, as Spark's JSON parser matches them.
    """
    names = list(columns)

    def check(key: Column, value: Column) -> Column:
        typed_null = F.coalesce(*[F.when(key == name, typed[name].isNull()) for name in names])
        return ~key.isin(*names) | (typed_null & ~F.is_variant_null(value))

    return check


def with_file_path(fields_json: Column, file_path: Column) -> Column:
    """A non-empty JSON object's text with ``"_file_path": <file_path>`` added as its last key.

    Joined as text: a record may repeat a key, which a Spark map refuses to hold.
    """
    path_json = F.to_json(F.struct(file_path.alias(FILE_PATH_KEY)))  # {"_file_path":"..."}
    return F.concat(
        F.substr(fields_json, F.lit(1), F.length(fields_json) - 1), F.lit(","), F.substr(path_json, F.lit(2))
    )


def rescued_metrics(rescued: Column, source_file: Column) -> list[Column]:
    """Observed metrics of rows with rescued data: how many, their files, the names of the fields rescued."""
    is_rescued = rescued.isNotNull()
    names = F.array_remove(F.json_object_keys(rescued), FILE_PATH_KEY)
    return [
        F.count_if(is_rescued).alias("rescued_records"),
        F.collect_set(F.when(is_rescued, source_file)).alias("rescued_files"),
        F.array_distinct(F.flatten(F.collect_set(names))).alias("rescued_fields"),
    ]


def rescued_warning(batches: list[dict]) -> str | None:
    """One line counting the rows and files with rescued data and naming the first few fields, sorted.

    ``batches`` are the micro-batches' ``rescued_metrics``; None when no row had rescued data.
    """
    rows = sum(batch["rescued_records"] for batch in batches)
    if not rows:
        return None
    files = set().union(*(batch["rescued_files"] for batch in batches))
    names = sorted(set().union(*(batch["rescued_fields"] for batch in batches)))
    return (
        f"{rows} event(s) in {len(files)} file(s) had fields the schema does not hold or could not type, "
        f"kept in {RESCUED}: {listed(names)}"
    )
