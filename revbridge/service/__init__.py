"""The application layer: the queries and commands the API, the console and the CLI call.

A face (an API route, a console page, a CLI command) parses its input, calls one function
here and renders the answer; it reads no table and builds no query. One module per noun:

- :mod:`~revbridge.service.database` — the database handle faces hold, readiness, and
  opening an existing database for a command;
- :mod:`~revbridge.service.deals` — the one deal search, a deal with its timeline, cases,
  bindings and activity, deals by flow state;
- :mod:`~revbridge.service.cases` — case lists with filters, one case, and the operator
  actions and assignment (carried out by :mod:`revbridge.cases.actions`);
- :mod:`~revbridge.service.customers` — a customer's, an invoice's ids and events, payments;
- :mod:`~revbridge.service.replays` — choosing deals to replay (preview) and replaying them,
  each replay audited here, alike for every face;
- :mod:`~revbridge.service.figures` — the console overview's figures;
- :mod:`~revbridge.service.events` — canonical events recorded once and read by offset;
- :mod:`~revbridge.service.orders` — order packages submitted directly;
- :mod:`~revbridge.service.access` — API keys, console users and sessions, idempotency
  keys (creating, revoking, disabling and signing in audited here);
- :mod:`~revbridge.service.audit` — the audit log read in order and verified;
- :mod:`~revbridge.service.policies` — the policy versions loaded;
- :mod:`~revbridge.service.fleet` — the workers and the alert states.

Commands take what they act with explicitly (the :data:`~revbridge.service.database.Database`
and the ``signal``/``replay`` callables the composition root builds); nothing here is global.
"""
