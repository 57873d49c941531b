"""Which NHS Cancer Alliance, footprint (STP, later ICB) and sub-area (CCG, later Sub-ICB
Location) cover points and postcodes in England, for any date from April 2017 to March 2024.

The data (every ONS boundary edition of 2017-2023, the relation tables and 2.69 million
postcodes) is built into the package: no server, no files, nothing downloaded. It is loaded
once per process, on first use (about two seconds), and shared by every call and thread.

Bulk functions take numpy arrays, pyarrow arrays or Python lists and return a
``pyarrow.Table`` with the columns of :data:`COLUMNS`; they release the GIL while they work.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
from typing import Any, Optional, Union

import pyarrow as pa

from . import _native

__all__ = [
    "COLUMNS",
    "MATCH_VALUES",
    "editions",
    "lookup_points",
    "lookup_postcodes",
    "schema",
    "timeline",
]

#: The columns of every answer table, in order.
COLUMNS = tuple(_native.columns())

#: The values of the ``match`` column: the HTTP API's ``contains`` (inside or on the border),
#: ``nearest`` (within 2 km of England's footprints, ``distance_m`` metres away) and
#: ``outside``; then ``malformed`` (a coordinate not finite or out of WGS84 range, text that is
#: not a UK postcode), ``not_found`` (a well-formed postcode not in the index) and ``missing``
#: (a null value). Rows of the last three have no areas and a null ``distance_m``.
MATCH_VALUES = ("contains", "nearest", "outside", "malformed", "not_found", "missing")

Date = Union[None, str, _dt.date]



def _date_text(date: Date) -> Optional[str]:
    """``date`` as the text the HTTP API's ``date`` parameter takes (checked in Rust)."""
    if date is None or isinstance(date, str):
        return date
    if isinstance(date, _dt.datetime):
        # A datetime is a date too, but the API takes days: say so rather than drop the time.
        raise ValueError(
            f"date must be a datetime.date, 'YYYY-MM-DD' or 'latest', not a datetime ({date!r}); "
            "use .date()"
        )
    if isinstance(date, _dt.date):
        return date.isoformat()
    raise TypeError(
        f"date must be None, 'YYYY-MM-DD', 'latest' or a datetime.date, got {type(date).__name__}"
    )


def _array(values: Any, name: str, type_: pa.DataType, accepts) -> pa.Array:
    """``values`` (a pyarrow Array or ChunkedArray, a numpy array, a pandas Series or any
    sequence) as one pyarrow Array the extension reads: one whose type ``accepts(type)`` passes
    as is, anything else converted to ``type_`` (a contiguous float64 numpy array is handed
    over without a copy)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        array = values
    else:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise TypeError(
                f"{name} must be a sequence (numpy array, pyarrow array or list), "
                f"got {type(values).__name__}"
            )
        try:
            array = pa.array(values, type=type_, from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as e:
            raise TypeError(f"{name}: cannot be read as {type_}: {e}") from None
    if accepts(array.type):
        return array
    # Other numbers are widened to float64; dictionary-encoded text is decoded; nothing else
    # is converted (Arrow would turn numbers into postcodes or parse text as numbers).
    kind = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
    if pa.types.is_null(kind) or (
        (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind))
        if type_ == pa.float64()
        else accepts(kind)
    ):
        return array.cast(type_)
    raise TypeError(f"{name} must be {'numbers' if type_ == pa.float64() else 'strings'}, got an array of {array.type}")


def _is_float64(t: pa.DataType) -> bool:
    return t == pa.float64()


# pyarrow before 16 has no string views.
_is_string_view = getattr(pa.types, "is_string_view", lambda t: False)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or _is_string_view(t)


def _table(batch: pa.RecordBatch) -> pa.Table:
    return pa.Table.from_batches([batch])


def lookup_points(lon: Any, lat: Any, date: Date = None) -> pa.Table:
    """The alliance, footprint and sub-area covering each point, as of ``date``.

    ``lon`` and ``lat`` (WGS84 degrees, same length) are numpy arrays, pyarrow arrays or lists
    of numbers. ``date`` is ``None`` (the 2017 configuration, as the HTTP API without
    ``date``), ``'YYYY-MM-DD'``, a ``datetime.date``, or ``'latest'``; a malformed date, or one
    on which no edition is held, is a ``ValueError``.

    One row per point, in order, with the columns of :data:`COLUMNS`: codes and names are
    dictionary-encoded strings (null where no area), ``match`` is one of :data:`MATCH_VALUES`
    and ``distance_m`` the metres to the nearest footprint for ``nearest`` (0 otherwise, null
    for a point with no answer). A NaN, infinite or out-of-range coordinate is ``malformed``
    and a null one ``missing``: bad rows never raise.
    """
    when = _date_text(date)
    lon_array = _array(lon, "lon", pa.float64(), _is_float64)
    lat_array = _array(lat, "lat", pa.float64(), _is_float64)
    return _table(_native.lookup_points(lon_array, lat_array, when))


def lookup_postcodes(postcodes: Any, date: Date = None) -> pa.Table:
    """The alliance, footprint and sub-area of each postcode, as of ``date``.

    ``postcodes`` are strings in any usual spelling (``'LS1 4AP'``, ``'ls14ap'``), as a list,
    numpy array or pyarrow array. ``date`` as for :func:`lookup_points`. One row per postcode,
    in order, with the columns of :data:`COLUMNS`; ``match`` is ``contains`` for a postcode in
    an English footprint, ``outside`` for one elsewhere in the UK, ``malformed`` for text that
    is not a postcode, ``not_found`` for one the index does not hold and ``missing`` for null.
    """
    when = _date_text(date)
    array = _array(postcodes, "postcodes", pa.string(), _is_text)
    return _table(_native.lookup_postcodes(array, when))


def timeline(
    lon: Optional[float] = None,
    lat: Optional[float] = None,
    *,
    postcode: Optional[str] = None,
) -> dict:
    """What covered a point (``lon=``, ``lat=``) or a postcode (``postcode=``) in every period
    of editions held, and what changed between periods: the same document as the HTTP API's
    ``/api/v1/timeline`` and ``/api/v1/postcodes/{postcode}/timeline``, as a dict.

    A coordinate not finite or out of range, or a malformed postcode, is a ``ValueError``; a
    well-formed postcode that the index does not hold is a ``KeyError``.
    """
    if postcode is not None:
        if lon is not None or lat is not None:
            raise TypeError("give lon= and lat=, or postcode=, not both")
        if not isinstance(postcode, str):
            raise TypeError(f"postcode must be a str, got {type(postcode).__name__}")
        return _json.loads(_native.postcode_timeline(postcode))
    if lon is None or lat is None:
        raise TypeError("give lon= and lat=, or postcode=")
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise TypeError(f"lon and lat must be numbers, got {lon!r} and {lat!r}") from None
    return _json.loads(_native.point_timeline(x, y))


def editions() -> dict:
    """Every layer edition held (kind, code, dates in force, area count, source) and the
    periods they form: the HTTP API's ``/api/v1/editions`` document, as a dict."""
    return _json.loads(_native.editions())


def schema() -> pa.Schema:
    """The schema of the answer tables (the columns :func:`lookup_points` returns)."""
    return lookup_points([], []).schema
