"""Exception cases: the operations work queue, owners, and the safe recovery actions."""
