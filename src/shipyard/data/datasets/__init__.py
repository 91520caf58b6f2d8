"""Datasets as versions: immutable, content-hashed Parquet snapshots with schema and profile."""

from shipyard.data.datasets.entities import Dataset, DatasetVersion
from shipyard.data.datasets.refs import parse_dataset_ref
from shipyard.data.datasets.service import DatasetCatalog
from shipyard.data.datasets.store import CheckResult, DatasetStore, IngestResult

__all__ = [
    "CheckResult",
    "Dataset",
    "DatasetCatalog",
    "DatasetStore",
    "DatasetVersion",
    "IngestResult",
    "parse_dataset_ref",
]
