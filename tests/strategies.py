"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import string
from datetime import timedelta

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


# -- the stateful model of the whole core (tests/test_core_stateful.py) --------------------------
# Small pools on purpose: a few e-mails and lists make collisions, re-adds and repeated
# unsubscribes likely within a dozen steps.
EMAIL_POOL = tuple(f"p{n}@example.dk" for n in range(5))
LIST_POOL = ("news", "promo")

email_slots = st.integers(min_value=0, max_value=len(EMAIL_POOL) - 1)
list_names = st.sampled_from(LIST_POOL)
account_types = st.sampled_from(["paying", "freemium", "demo"])
agreement_editions = st.sampled_from(["scc", "dpa-2018"])
# How far the clock moves in one step: mostly minutes and hours (grants expire), sometimes the
# 30-day notice and trial periods, the 120-day deletion period and the 180-day staff review.
clock_steps = st.sampled_from(
    [timedelta(minutes=20), timedelta(hours=3), timedelta(hours=9), timedelta(days=1)]
) | st.sampled_from([timedelta(days=31), timedelta(days=121), timedelta(days=181)])
# Rows of a small import: (e-mail slot, with a phone number); names are planted by the test.
csv_rows = st.lists(st.tuples(email_slots, st.booleans()), min_size=1, max_size=3)
