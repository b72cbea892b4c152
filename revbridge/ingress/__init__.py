"""How work arrives: CRM change events (pushed or pulled) become recorded, started deals.

Every path ends the same way: the event is recorded once in the inbox, then the deal's
workflow is started under an id derived from the deal, so duplicates, replays and
out-of-order deliveries never start a second flow.
"""
