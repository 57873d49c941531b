"""Annotating Spark DataFrames on every executor: :func:`annotate` adds the alliance,
footprint and sub-area columns with ``DataFrame.mapInArrow``, so each executor's Python
workers look up their own Arrow batches with the package's built-in data (nothing is sent to
a service, nothing leaves the cluster). The package must be installed on every executor (the
wheel as a cluster library, or ``pip install`` in the image).
"""

from __future__ import annotations

from typing import Iterator, Optional

import pyarrow as pa

from . import COLUMNS, Date, _date_text, lookup_points

__all__ = ["annotate", "output_fields"]


def output_fields():
    """The Spark fields :func:`annotate` adds, in order: six strings (codes and names), the
    ``match`` string and the ``distance_m`` double."""
    from pyspark.sql.types import DoubleType, StringType, StructField

    return [StructField(c, StringType(), True) for c in COLUMNS[:-1]] + [
        StructField(COLUMNS[-1], DoubleType(), True)
    ]


def annotate(
    df,
    lon_col: Optional[str] = None,
    lat_col: Optional[str] = None,
    *,
    postcode_col: Optional[str] = None,
    date: Date = None,
):
    """``df`` with the columns of :data:`alliance_map.COLUMNS` added (codes and names as
    strings), looked up by the numeric columns ``lon_col`` and ``lat_col`` (WGS84 degrees) or
    by the string column ``postcode_col``, as of ``date`` (as for
    :func:`alliance_map.lookup_points`). Every row is kept, in its partition's order; rows
    with a null, malformed or unknown value get ``match`` saying so and no areas.

    Lazy, like any transformation: nothing runs until an action. Argument errors (a missing
    or non-numeric column, a name clash, a bad date) are raised here, on the driver.
    """
    from pyspark.sql.types import NumericType, StringType, StructType

    by_point = lon_col is not None or lat_col is not None
    if by_point == (postcode_col is not None):
        raise TypeError("give lon_col= and lat_col=, or postcode_col=")
    if by_point and (lon_col is None or lat_col is None):
        raise TypeError("give both lon_col= and lat_col=")
    when = _date_text(date)
    # Checks the date now, with the same message as a lookup (and loads the data on the driver
    # once, which also proves the package works there).
    lookup_points([], [], when)

    fields = {f.name: f for f in df.schema.fields}
    wanted = [(lon_col, NumericType, "numeric"), (lat_col, NumericType, "numeric")] if by_point else [
        (postcode_col, StringType, "a string")
    ]
    for name, kind, said in wanted:
        if name not in fields:
            raise ValueError(f"the DataFrame has no column {name!r}; its columns are: {', '.join(fields)}")
        if not isinstance(fields[name].dataType, kind):
            raise TypeError(f"column {name!r} must be {said}, got {fields[name].dataType.simpleString()}")
    clash = [c for c in COLUMNS if c in fields]
    if clash:
        raise ValueError(f"the DataFrame already has column(s) {', '.join(clash)}: rename or drop them first")

    added = output_fields()
    schema = StructType(list(df.schema.fields) + added)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # Runs in the executors' Python workers: the import loads the data once per worker.
        import alliance_map

        for batch in batches:
            if by_point:
                answers = alliance_map.lookup_points(batch.column(lon_col), batch.column(lat_col), when)
            else:
                answers = alliance_map.lookup_postcodes(batch.column(postcode_col), when)
            columns = list(batch.columns)
            for c in answers.columns:
                array = c.combine_chunks() if c.num_chunks != 1 else c.chunk(0)
                # Spark takes plain strings, not dictionaries.
                if pa.types.is_dictionary(array.type):
                    array = array.dictionary_decode()
                columns.append(array)
            yield pa.RecordBatch.from_arrays(columns, names=batch.schema.names + list(COLUMNS))

    return df.mapInArrow(run, schema)
