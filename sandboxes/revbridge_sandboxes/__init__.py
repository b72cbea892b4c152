"""Local emulators of the vendor APIs revbridge integrates with.

Each sandbox (``salesforce``, ``netsuite``, ``stripe``, ``avalara``) is an ASGI app
built by ``create_app(...)`` with its own in-memory state, optionally persisted to
SQLite. They share fault injection (:mod:`.faults`), the ``/_sandbox/*`` control
routes and snapshot persistence (:mod:`.control`), and outbound webhook delivery
(:mod:`.webhooks`). Sandboxes import nothing of revbridge: they ship as their own
distribution, ``revbridge-sandboxes``, released with the same version as revbridge.
"""

__version__ = "0.1.0"
