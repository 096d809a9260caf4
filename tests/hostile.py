"""Hypothesis strategies shared by the property tests of the pure steps that read documents."""

from hypothesis import strategies as st

from parsers.timefmt import ns_to_iso

# Values a hostile document may hold in any field: wrong types, malformed times, plausible times.
HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
    st.builds(ns_to_iso, st.integers(0, 2**62)),
)
