"""Durable orchestration on DBOS: the quote-to-cash workflow and its steps.

Flows speak canonical objects and ports only; they never import a connector.
"""
