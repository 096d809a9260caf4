"""Lens visualizations as saved objects, built from small column and chart builders.

The shapes follow Lens objects exported from Kibana 8.x (`typeMigrationVersion` 8.9.0: the `formBased`
datasource, one reference `indexpattern-datasource-layer-<layer>` per layer to its data view). Every
visualization here has one layer; queries are Lucene so Elasticsearch itself can check them.
"""

from typing import Any

from pipeline.kibana.saved import reference, saved_object

LAYER = "main"
RECORDS = "___records___"  # Lens' pseudo-field of `count`.

Column = dict[str, Any]


def _metric(operation: str, field: str, label: str, **params: Any) -> Column:
    return {
        "customLabel": True,
        "dataType": "number",
        "isBucketed": False,
        "label": label,
        "operationType": operation,
        "params": {"emptyAsNull": True, **params},
        "scale": "ratio",
        "sourceField": field,
    }


def count(label: str) -> Column:
    """Number of documents."""
    return _metric("count", RECORDS, label)


def total(field: str, label: str) -> Column:
    """Sum of a numeric field."""
    return _metric("sum", field, label)


def maximum(field: str, label: str) -> Column:
    """Largest value of a numeric field."""
    return _metric("max", field, label)


def percentile(field: str, percent: int, label: str) -> Column:
    """A percentile of a numeric field, computed by Elasticsearch from the raw values."""
    return _metric("percentile", field, label, percentile=percent)


def per_second(column: Column) -> Column:
    """`column` normalized to a rate per second of the date histogram bucket (Lens `timeScale`)."""
    return {**column, "timeScale": "s"}


def where(column: Column, lucene: str) -> Column:
    """`column` computed over the documents matching `lucene` only (a Lens column filter)."""
    return {**column, "filter": {"language": "lucene", "query": lucene}}


def over_time(field: str = "@timestamp") -> Column:
    """Date histogram with Kibana's automatic interval."""
    return {
        "dataType": "date",
        "isBucketed": True,
        "label": field,
        "operationType": "date_histogram",
        "params": {"dropPartials": False, "includeEmptyRows": True, "interval": "auto"},
        "scale": "interval",
        "sourceField": field,
    }


def top(field: str, label: str, order_by: str, size: int = 10) -> Column:
    """The `size` values of a keyword field that rank highest by the column `order_by`."""
    return {
        "customLabel": True,
        "dataType": "string",
        "isBucketed": True,
        "label": label,
        "operationType": "terms",
        "params": {
            "exclude": [],
            "excludeIsRegex": False,
            "include": [],
            "includeIsRegex": False,
            "missingBucket": False,
            "orderBy": {"columnId": order_by, "type": "column"},
            "orderDirection": "desc",
            "otherBucket": True,
            "parentFormat": {"id": "terms"},
            "size": size,
        },
        "scale": "ordinal",
        "sourceField": field,
    }


def _lens(
    lens_id: str, title: str, data_view: str, kind: str, columns: dict[str, Column], visualization: dict,
    query: str,
) -> dict[str, Any]:
    layer = {"columnOrder": list(columns), "columns": columns, "incompleteColumns": {}, "sampling": 1}
    state = {
        "adHocDataViews": {},
        "datasourceStates": {
            "formBased": {"layers": {LAYER: layer}},
            "indexpattern": {"layers": {}},
            "textBased": {"layers": {}},
        },
        "filters": [],
        "internalReferences": [],
        "query": {"language": "lucene", "query": query},
        "visualization": visualization,
    }
    attributes = {"description": "", "state": state, "title": title, "visualizationType": kind}
    references = [reference("index-pattern", data_view, f"indexpattern-datasource-layer-{LAYER}")]
    return saved_object("lens", lens_id, attributes, references)


_AXES = {"x": True, "yLeft": True, "yRight": True}


def xy(
    lens_id: str,
    title: str,
    data_view: str,
    *,
    x: tuple[str, Column],
    ys: dict[str, Column],
    split: tuple[str, Column] | None = None,
    series: str = "line",
    query: str = "",
) -> dict[str, Any]:
    """A line/area/bar chart: x bucket, one or more y metrics, optionally one series per top value."""
    # The split first: Lens nests aggregations in column order, so the top values are picked over the
    # whole time range, then bucketed over time (not a different top list per bucket).
    columns = {**({split[0]: split[1]} if split else {}), x[0]: x[1], **ys}
    layer: dict[str, Any] = {
        "accessors": list(ys),
        "layerId": LAYER,
        "layerType": "data",
        "position": "top",
        "seriesType": series,
        "showGridlines": False,
        "xAccessor": x[0],
    }
    if split:
        layer["splitAccessor"] = split[0]
    visualization = {
        "axisTitlesVisibilitySettings": _AXES,
        "fittingFunction": "None",
        "gridlinesVisibilitySettings": _AXES,
        "labelsOrientation": {"x": 0, "yLeft": 0, "yRight": 0},
        "layers": [layer],
        "legend": {"isVisible": True, "position": "right"},
        "preferredSeriesType": series,
        "tickLabelsVisibilitySettings": _AXES,
        "valueLabels": "hide",
    }
    return _lens(lens_id, title, data_view, "lnsXY", columns, visualization, query)


def table(
    lens_id: str, title: str, data_view: str, *, columns: dict[str, Column], sort_by: str, query: str = ""
) -> dict[str, Any]:
    """A data table: bucket columns first, then metrics; sorted by `sort_by`, largest first."""
    visualization = {
        "columns": [{"columnId": column_id} for column_id in columns],
        "layerId": LAYER,
        "layerType": "data",
        "sorting": {"columnId": sort_by, "direction": "desc"},
    }
    return _lens(lens_id, title, data_view, "lnsDatatable", columns, visualization, query)
