"""``revbridge bench``: deals through the whole flow against the sandboxes, measured.

Two profiles: ``zero-latency`` (revbridge's own overhead) and ``realistic`` (the latency
and limits of the real services: NetSuite 5 concurrent requests at ~300 ms, Salesforce
~150 ms, Stripe ~100 ms and 25 requests/s, AvaTax ~80 ms). The same deals are also booked
by a baseline that makes the same API calls through the same connectors with no
orchestration (no workflow, no checkpoints, no store), so the ratio shows what durability
costs.
"""
