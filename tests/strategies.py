"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import string

from hypothesis import strategies as st

_LOCAL = st.text(string.ascii_lowercase + string.digits + "._-", min_size=1, max_size=12).filter(
    lambda s: s[0] not in "._-"
)
_DOMAIN = st.sampled_from(["example.dk", "example.org", "mail.example.com"])

emails = st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL, _DOMAIN)
names = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll"), max_codepoint=0x17F),
    min_size=2,
    max_size=20,
)
phones = st.builds(lambda n: f"+45{n:08d}", st.integers(min_value=20_000_000, max_value=99_999_999))


@st.composite
def people(draw: st.DrawFn) -> dict[str, str]:
    """A person as the field vocabulary describes them."""
    return {
        "email": draw(emails),
        "first_name": draw(names),
        "last_name": draw(names),
        "phone": draw(phones),
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
