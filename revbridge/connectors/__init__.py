"""Adapters to external systems, one package per product, behind the ports in ``ports.py``.

A connector knows one API and nothing of flows, cases, the store or the HTTP API.
"""
