"""``revbridge chaos``: prove the invariants while everything that can go wrong does.

A chaos run books N deals through real ``revbridge worker`` processes against the four
sandboxes while they inject server errors, 429s and commit-then-drop faults, the CRM's
change events arrive duplicated and out of order (pushed, pulled and replayed), and workers
are SIGKILLed and restarted. When every deal has settled, billing posts their invoices and
customers pay them, some after a declined card. Then it checks, from what each system
holds and what revbridge recorded, that nothing was duplicated, lost, mispriced or left
stuck (:mod:`.invariants`), invoices and payments included.

Modules: :mod:`.faults` (the fault plan), :mod:`.workers` (the fleet and the kill plan),
:mod:`.deliveries` (replayed change events), :mod:`.billing` (invoices posted and paid),
:mod:`.evidence` (reading the estate),
:mod:`.invariants` (the checks), :mod:`.run` (one run, start to report).
"""
