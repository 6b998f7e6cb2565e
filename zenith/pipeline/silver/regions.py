"""Silver's region rule: a customer's location -> East Coast, West Coast or Central, as a Pandas UDF."""

# No ``from __future__ import annotations`` here: the Pandas UDF reads ``regions_of``'s type hints,
# which must be objects, not strings, where the function arrives pickled by value without its module.
import sys

import pandas as pd
from pyspark import cloudpickle
from pyspark.sql import Column
from pyspark.sql import types as T
from pyspark.sql.functions import pandas_udf

# Lower-cased locations on the coasts; every other known (non-blank) location is Central.
COASTAL_REGIONS = {
    "new york": "East Coast",
    "philadelphia": "East Coast",
    "los angeles": "West Coast",
    "san diego": "West Coast",
}
INLAND_REGION = "Central"


def regions_of(locations: pd.Series) -> pd.Series:
    """The region of each location: East Coast, West Coast or Central; None for a NULL or blank one.

    Case and surrounding spaces are ignored. A NULL region therefore means exactly an unknown
    customer or one without a location, which is what the gold data-quality count reports.
    """
    keys = locations.astype("string").str.strip().str.lower()
    regions = keys.map(COASTAL_REGIONS).fillna(INLAND_REGION).astype(object)
    return regions.where(keys.notna() & (keys != ""), None)


def categorize_region(location: str | Column) -> Column:
    """The region of each location as a Column: ``regions_of`` run as a Pandas UDF.

    The UDF is made here, on use, rather than at import: only then does a session exist, and
    it must be a UDF of that session's kind (classic or Spark Connect). This module is pickled
    by value, so the UDF carries ``regions_of`` and the regions with it and the server's Python
    workers run it without the ``zenith`` package installed.
    """
    module = sys.modules.get(__name__)
    if module is not None:  # absent where this arrived pickled by value (a Connect foreachBatch process)
        cloudpickle.register_pickle_by_value(module)
    return pandas_udf(regions_of, T.StringType())(location)
