"""Data: connectors (sources), dataset snapshots, preprocessing and validation."""
