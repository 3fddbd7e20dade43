"""What the GDPA audits with (AUD-1): the report, and the checks it shows.

The report: `report` assembles one model from `evidence` (event counts), `objectives` (A to I),
`mechanisms` and `coverage` (each obligation id's enforcing code and tests) and `deviations`;
`render_markdown`, `render_json` and `render_html` (with `charts`) format it. The checks
(samples, the change log, records, packs, reviews, contact persons) live in the modules beside.
"""
