"""Tracking: experiments, runs, params, metrics, tags, artifacts and lineage."""
