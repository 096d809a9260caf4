"""Kibana URLs that open the trace search: Discover with the trace saved search and a `trace.id` query.

One builder serves the data views' `trace.id` link format (a relative URL template with `{{value}}`),
`logtrace link` and the link `logtrace trace` prints, so the three always open the same view.
App state is written in Rison, the notation Kibana keeps in its URLs.
"""

import re
from urllib.parse import quote

# Saved search "Trace: all logs and spans for a trace id" (pipeline/kibana/searches.py).
TRACE_SEARCH_ID = "logtrace-search-trace"
# Time range of a link made without knowing when the trace happened.
DEFAULT_FROM = "now-7d"
DEFAULT_TO = "now"

# Rison strings that need no quotes: no leading digit or '-', none of the reserved characters.
_RISON_BARE = re.compile(r"^[^-0-9 '!:(),*@$][^ '!:(),*@$]*$")
# Characters left as they are in the URL fragment: Rison punctuation and the template's braces.
_URL_SAFE = "!'()*,:-._~@$/{}"


def rison(value: object) -> str:
    """`value` (dict, list, str, int, float, bool, None) in Rison notation, dict keys sorted."""
    if value is None:
        return "!n"
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        if _RISON_BARE.match(value):
            return value
        return "'" + value.replace("!", "!!").replace("'", "!'") + "'"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison(item) for item in value) + ")"
    if isinstance(value, dict):
        return "(" + ",".join(f"{rison(key)}:{rison(value[key])}" for key in sorted(value)) + ")"
    raise TypeError(f"cannot encode {type(value).__name__} as Rison")


def trace_query(trace_id: str) -> str:
    """The Lucene query of one trace (the saved searches use Lucene so Elasticsearch can run them too)."""
    return f"trace.id:{trace_id}"


def discover_fragment(trace_id: str, *, time_from: str = DEFAULT_FROM, time_to: str = DEFAULT_TO) -> str:
    """`app/discover#/view/<trace search>?_g=...&_a=...`: the part after the Kibana base URL."""
    global_state = rison({"filters": [], "time": {"from": time_from, "to": time_to}})
    app_state = rison({"query": {"language": "lucene", "query": trace_query(trace_id)}})
    return (
        f"app/discover#/view/{TRACE_SEARCH_ID}"
        f"?_g={quote(global_state, safe=_URL_SAFE)}&_a={quote(app_state, safe=_URL_SAFE)}"
    )


def trace_url(
    kibana_url: str,
    trace_id: str,
    *,
    space: str | None = None,
    time_from: str = DEFAULT_FROM,
    time_to: str = DEFAULT_TO,
) -> str:
    """Absolute Discover URL of one trace in `space` (None = the default space)."""
    base = kibana_url.rstrip("/")
    if space:
        base += f"/s/{quote(space, safe='')}"
    return f"{base}/{discover_fragment(trace_id, time_from=time_from, time_to=time_to)}"


def trace_url_template() -> str:
    """The URL template of the `trace.id` field format in every data view.

    Relative as `../app/...`: Kibana's URL formatter prefixes it with origin, base path and space plus
    `/app/`, so the `..` lands back on `<base path>/app/discover` whatever the deployment's base path.
    """
    return "../" + discover_fragment("{{value}}")
