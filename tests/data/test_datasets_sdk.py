"""The dataset SDK: ingest from sources, load with lineage, check, on a real local store."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import shipyard
from shipyard.data.sources.files import FileSource
from shipyard.errors import InvalidArgument, NotFound

CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn" / "data" / "wa_churn.csv"


def test_ingest_a_path_then_load_it_inside_a_run_records_lineage() -> None:
    result = shipyard.ingest_dataset(str(CHURN), name="churn")
    v = result.version
    assert result.created and v.num_rows == 7043 and v.source["type"] == "files"
    with shipyard.start_run(experiment="lineage") as run:
        table = shipyard.load_dataset("churn")
    assert table.num_rows == 7043
    inputs = shipyard.get_run(run.run_id).inputs
    assert [(i.name, i.digest, i.source, i.num_rows) for i in inputs] == [
        ("churn", v.version, v.uri, 7043)
    ]
    again = shipyard.load_dataset(v.uri)  # outside a run: nothing recorded, same rows
    assert again.equals(table)


def test_the_same_file_twice_is_one_version_and_a_name_defaults_to_the_stem() -> None:
    first = shipyard.ingest_dataset(str(CHURN))
    second = shipyard.ingest_dataset(str(CHURN))
    assert first.version.name == "wa_churn" and not second.created
    assert [v.seq for v in shipyard.list_dataset_versions("wa_churn")] == [1]


def test_ingest_a_source_named_in_shipyard_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shipyard.yaml").write_text(
        f"sources:\n  customers:\n    type: files\n    path: {CHURN}\n"
    )
    monkeypatch.chdir(tmp_path)
    v = shipyard.ingest_dataset("customers").version
    assert v.name == "customers" and v.source["path"] == str(CHURN)
    assert shipyard.get_dataset("customers") == v
    assert [d.name for d in shipyard.list_datasets()] == ["customers"]


def test_ingest_objects_tables_and_frames() -> None:
    v = shipyard.ingest_dataset(FileSource("c", str(CHURN)), name="c2").version
    assert v.name == "c2"
    frame = pa.table({"a": [1, 2]}).to_pandas()
    assert shipyard.ingest_dataset(frame, name="small").version.num_rows == 2
    with pytest.raises(InvalidArgument, match="needs name="):
        shipyard.ingest_dataset(frame)
    with pytest.raises(InvalidArgument, match="not int"):
        shipyard.ingest_dataset(3, name="x")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        shipyard.ingest_dataset("no/such/file.csv")


def test_check_a_version_with_a_yaml_suite(tmp_path: Path) -> None:
    shipyard.ingest_dataset(str(CHURN), name="churn")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: churn\nrules:\n"
        "  - {type: not_null, column: total_charges, severity: warn}\n"
        "  - {type: range, column: tenure, min: 0, max: 100}\n"
    )
    result = shipyard.check_dataset("churn", suite)
    assert result.report.passed
    nulls = result.report.result("total_charges_not_null")
    assert not nulls.passed and nulls.failed_count == 11  # the real telco table's blanks
    q = result.quarantine
    assert q is not None and q.num_rows == 11
    assert shipyard.load_dataset(q.ref).column("total_charges").null_count == 11


def test_diff_between_versions() -> None:
    shipyard.ingest_dataset(pa.table({"x": [1.0, 2.0, 3.0]}), name="d")
    shipyard.ingest_dataset(pa.table({"x": [1.0, 2.0], "y": ["a", "b"]}), name="d")
    diff = shipyard.diff_datasets("d@#1", "d@#2")
    assert diff.added_columns == ("y",) and diff.row_count_delta == -1
