"""Kibana saved objects for logtrace: their definitions, the importable bundle, the import client, links."""
