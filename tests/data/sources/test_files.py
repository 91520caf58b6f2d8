"""FileSource: real files in tmp_path and in fsspec's memory filesystem."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shipyard.config import load_settings
from shipyard.data.sources import source_from_config, sources_from_settings
from shipyard.data.sources.base import ReadResult
from shipyard.data.sources.files import FileSource
from shipyard.errors import InvalidArgument, NotFound


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_one_csv_file_with_types(tmp_path: Path) -> None:
    _csv(tmp_path / "a.csv", "id,price,city\n1,2.5,Oslo\n2,3.0,Bergen\n")
    result = FileSource("s", str(tmp_path / "a.csv")).read()
    assert isinstance(result, ReadResult)
    assert result.watermark is None
    assert result.table.schema.field("id").type == pa.int64()
    assert result.table.schema.field("price").type == pa.float64()
    assert result.table.to_pydict() == {
        "id": [1, 2],
        "price": [2.5, 3.0],
        "city": ["Oslo", "Bergen"],
    }


def test_reads_one_parquet_file(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array([1, 2, 3], pa.int32()), "x": ["a", "b", None]})
    pq.write_table(table, tmp_path / "t.parquet")
    assert FileSource("s", str(tmp_path / "t.parquet")).read().table.equals(table)


def test_reads_one_jsonl_file(tmp_path: Path) -> None:
    rows = [{"id": 1, "tags": ["a"], "v": 1.5}, {"id": 2, "tags": [], "v": None}]
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = FileSource("s", str(tmp_path / "r.jsonl")).read().table
    assert table.to_pylist() == rows


def test_csv_options_delimiter_and_encoding(tmp_path: Path) -> None:
    _csv(tmp_path / "l.csv", "name;n\nGöteborg;1\nMålöy;2\n", encoding="latin-1")
    table = FileSource("s", str(tmp_path / "l.csv"), delimiter=";", encoding="latin-1").read().table
    assert table.column("name").to_pylist() == ["Göteborg", "Målöy"]


def test_gzipped_csv_is_decompressed(tmp_path: Path) -> None:
    with fsspec.open(str(tmp_path / "z.csv.gz"), "wt", compression="gzip") as fh:
        fh.write("a\n1\n2\n")
    assert FileSource("s", str(tmp_path / "z.csv.gz")).read().table.num_rows == 2


def test_glob_across_three_files_unifies_schemas(tmp_path: Path) -> None:
    _csv(tmp_path / "d" / "1.csv", "id,v\n1,10\n")
    _csv(tmp_path / "d" / "2.csv", "id,v\n2,2.5\n")  # v becomes float
    _csv(tmp_path / "d" / "3.csv", "id,extra\n3,x\n")  # v missing → null, extra added
    _csv(tmp_path / "d" / "notes.txt", "not data\n")
    table = FileSource("s", str(tmp_path / "d" / "*.csv")).read().table
    assert table.schema.field("v").type == pa.float64()
    assert table.to_pydict() == {
        "id": [1, 2, 3],
        "v": [10.0, 2.5, None],
        "extra": [None, None, "x"],
    }


def test_folder_reads_its_data_files_and_skips_hidden_ones(tmp_path: Path) -> None:
    _csv(tmp_path / "d" / "1.csv", "id\n1\n")
    _csv(tmp_path / "d" / "sub" / "2.csv", "id\n2\n")
    _csv(tmp_path / "d" / "_SUCCESS", "")
    _csv(tmp_path / "d" / ".hidden.csv", "id\n99\n")
    assert FileSource("s", str(tmp_path / "d")).read().table.column("id").to_pylist() == [1, 2]


def test_hive_partitioned_folder_becomes_columns(tmp_path: Path) -> None:
    root = tmp_path / "events"
    for year, country, value in [(2023, "no", 1), (2023, "se", 2), (2024, "no", 3)]:
        folder = root / f"year={year}" / f"country={country}"
        folder.mkdir(parents=True)
        pq.write_table(pa.table({"value": [value, value * 10]}), folder / "part-0.parquet")
    table = FileSource("s", f"file://{root}", partitioning=True).read().table
    assert table.schema.field("year").type == pa.int64()
    assert table.schema.field("country").type == pa.string()
    assert sorted(zip(*table.to_pydict().values(), strict=True)) == [
        (1, 2023, "no"),
        (2, 2023, "se"),
        (3, 2024, "no"),
        (10, 2023, "no"),
        (20, 2023, "se"),
        (30, 2024, "no"),
    ]
    plain = FileSource("s", str(root)).read().table
    assert plain.column_names == ["value"]


def test_partition_column_clashing_with_a_file_column_is_rejected(tmp_path: Path) -> None:
    _csv(tmp_path / "p" / "year=2024" / "a.csv", "year,v\n2023,1\n")
    with pytest.raises(InvalidArgument, match=r"'year'.*partitioning: false"):
        FileSource("s", str(tmp_path / "p"), partitioning=True).read()


@pytest.fixture
def memfs() -> Iterator[fsspec.AbstractFileSystem]:
    fs = fsspec.filesystem("memory")
    fs.mkdir("/shipyard-test")
    yield fs
    fs.rm("/shipyard-test", recursive=True)


def test_memory_fsspec_url(memfs: fsspec.AbstractFileSystem) -> None:
    memfs.pipe("/shipyard-test/a.csv", b"id\n1\n2\n")
    memfs.pipe("/shipyard-test/b.csv", b"id\n3\n")
    table = FileSource("s", "memory://shipyard-test/*.csv").read().table
    assert table.column("id").to_pylist() == [1, 2, 3]


def test_error_names_memory_url_of_bad_file(memfs: fsspec.AbstractFileSystem) -> None:
    memfs.pipe("/shipyard-test/bad.csv", b"a,b\n1,2\n3\n")
    with pytest.raises(InvalidArgument, match=r"memory://.*bad\.csv row 3"):
        FileSource("s", "memory://shipyard-test/bad.csv").read()


def test_no_match_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no file matches .*nothing\*\.csv"):
        FileSource("s", str(tmp_path / "nothing*.csv")).read()
    with pytest.raises(NotFound, match=r"missing\.csv"):
        FileSource("s", str(tmp_path / "missing.csv")).read()
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match="empty"):
        FileSource("s", str(tmp_path / "empty")).read()


def test_ragged_csv_row_names_file_and_row(tmp_path: Path) -> None:
    path = _csv(tmp_path / "r.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n")
    with pytest.raises(InvalidArgument) as info:
        FileSource("s", str(path)).read()
    message = str(info.value)
    assert str(path) in message
    assert "row 4" in message
    assert "4 columns but the header has 3" in message
    assert "7,8,9,10" in message


def test_wrong_encoding_names_file_and_suggests_encoding(tmp_path: Path) -> None:
    path = _csv(tmp_path / "l.csv", "name\nok\nGöteborg\n", encoding="latin-1")
    with pytest.raises(InvalidArgument, match=r"l\.csv is not valid utf-8 .*line 3.*encoding"):
        FileSource("s", str(path)).read()
    utf16 = _csv(tmp_path / "w.jsonl", '{"a": 1}\n', encoding="utf-16")
    with pytest.raises(InvalidArgument, match=r"w\.jsonl is not valid utf-8.*encoding="):
        FileSource("s", str(utf16)).read()
    assert FileSource("s", str(utf16), encoding="utf-16").read().table.to_pylist() == [{"a": 1}]


def test_incompatible_schemas_name_both_files_and_the_column(tmp_path: Path) -> None:
    _csv(tmp_path / "1.csv", "id,code\n1,10\n")
    _csv(tmp_path / "2.csv", "id,code\n2,abc\n")
    with pytest.raises(InvalidArgument) as info:
        FileSource("s", str(tmp_path / "*.csv")).read()
    message = str(info.value)
    assert "'code'" in message
    assert str(tmp_path / "1.csv") in message and str(tmp_path / "2.csv") in message


def test_unknown_format_lists_the_formats(tmp_path: Path) -> None:
    _csv(tmp_path / "data.txt", "a\n1\n")
    with pytest.raises(InvalidArgument, match="csv, parquet, jsonl"):
        FileSource("s", str(tmp_path / "data.txt")).read()
    with pytest.raises(InvalidArgument, match="csv, parquet, jsonl"):
        FileSource("s", str(tmp_path / "data.txt"), format="xlsx")
    table = FileSource("s", str(tmp_path / "data.txt"), format="csv").read().table
    assert table.column("a").to_pylist() == [1]
    (tmp_path / "data.jsonl").write_text("a\n5\n")  # misnamed: the explicit format wins
    table = FileSource("s", str(tmp_path / "data.jsonl"), format="csv").read().table
    assert table.column("a").to_pylist() == [5]


def test_mixed_formats_in_a_folder_ask_for_format(tmp_path: Path) -> None:
    _csv(tmp_path / "m" / "a.csv", "a\n1\n")
    (tmp_path / "m" / "b.jsonl").write_text('{"a": 2}\n')
    with pytest.raises(InvalidArgument, match=r"several formats \(csv, jsonl\)"):
        FileSource("s", str(tmp_path / "m")).read()
    assert FileSource("s", str(tmp_path / "m"), format="jsonl").read().table.num_rows == 1


def test_corrupt_parquet_and_bad_jsonl_are_invalid(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InvalidArgument, match=r"x\.parquet is not a readable Parquet"):
        FileSource("s", str(tmp_path / "x.parquet")).read()
    (tmp_path / "x.jsonl").write_text('{"a": 1}\n{"a": 2\n')
    with pytest.raises(InvalidArgument, match=r"x\.jsonl is not valid JSON Lines"):
        FileSource("s", str(tmp_path / "x.jsonl")).read()


def test_bad_settings_are_rejected_at_construction() -> None:
    with pytest.raises(InvalidArgument, match="delimiter"):
        FileSource("s", "a.csv", delimiter=";;")
    with pytest.raises(InvalidArgument, match="unknown encoding"):
        FileSource("s", "a.csv", encoding="klingon")
    with pytest.raises(InvalidArgument, match="path"):
        FileSource("s", "")


def test_describe_is_json_safe_settings() -> None:
    source = FileSource("s", "data/*.csv", format="csv", partitioning=True)
    assert source.kind == "files"
    described = source.describe()
    assert json.loads(json.dumps(described)) == described
    assert described == {
        "name": "s",
        "type": "files",
        "path": "data/*.csv",
        "format": "csv",
        "delimiter": ",",
        "encoding": "utf-8",
        "partitioning": True,
    }


# --- building sources from shipyard.yaml (shipyard.data.sources) -----------------------------


def test_source_from_config_builds_a_file_source(tmp_path: Path) -> None:
    _csv(tmp_path / "a.csv", "id\n1\n")
    source = source_from_config(
        "sales", {"type": "files", "path": str(tmp_path / "*.csv"), "format": "csv"}
    )
    assert isinstance(source, FileSource)
    assert source.name == "sales"
    assert source.read().table.num_rows == 1


def test_source_from_config_errors() -> None:
    with pytest.raises(
        InvalidArgument, match="unknown source type: 'ftp'; use one of files, http, sql"
    ):
        source_from_config("s", {"type": "ftp", "path": "x"})
    with pytest.raises(InvalidArgument, match="has no type:"):
        source_from_config("s", {"path": "x"})
    with pytest.raises(
        InvalidArgument, match=r"unknown field\(s\) delimeter; valid fields: .*delimiter"
    ):
        source_from_config("s", {"type": "files", "path": "x", "delimeter": ";"})
    with pytest.raises(InvalidArgument, match=r"unknown field.*kind"):
        source_from_config("s", {"type": "files", "path": "x", "kind": "sql"})
    with pytest.raises(InvalidArgument, match="missing path"):
        source_from_config("s", {"type": "files"})
    with pytest.raises(InvalidArgument, match="partitioning must be true or false"):
        source_from_config("s", {"type": "files", "path": "x", "partitioning": "yes"})
    with pytest.raises(InvalidArgument, match="must be a mapping"):
        source_from_config("s", ["files"])  # type: ignore[arg-type]


def test_sources_from_settings_reads_shipyard_yaml(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    (tmp_path / "shipyard.yaml").write_text(
        "sources:\n"
        "  sales:\n"
        "    type: files\n"
        f"    path: {tmp_path}/data/*.csv\n"
        "  orders:\n"
        "    type: sql\n"
        f"    url: sqlite:///{db}\n"
        "    table: orders\n"
        "    watermark: id\n"
    )
    sources = sources_from_settings(load_settings({}, cwd=tmp_path))
    assert sorted(sources) == ["orders", "sales"]
    assert [s.kind for s in sources.values()] == ["files", "sql"]
    assert sources["orders"].describe()["watermark"] == "id"
    assert sources_from_settings(load_settings({}, cwd=tmp_path / "nowhere")) == {}


def test_sources_from_settings_rejects_a_bad_section(tmp_path: Path) -> None:
    (tmp_path / "shipyard.yaml").write_text("sources: [a, b]\n")
    with pytest.raises(InvalidArgument, match=r"sources: in shipyard\.yaml"):
        sources_from_settings(load_settings({}, cwd=tmp_path))
    (tmp_path / "shipyard.yaml").write_text("sources:\n  s:\n    type: sql\n    url: sqlite://\n")
    with pytest.raises(InvalidArgument, match="exactly one of table"):
        sources_from_settings(load_settings({}, cwd=tmp_path))


def test_source_from_config_dispatches_http_lazily() -> None:
    source = source_from_config("api", {"type": "http", "url": "http://127.0.0.1:9/items"})
    assert source.kind == "http"
    assert source.name == "api"
    with pytest.raises(InvalidArgument, match=r"unknown field\(s\) path"):
        source_from_config("api", {"type": "http", "url": "http://127.0.0.1:9/", "path": "x"})


def test_relative_glob_is_read_from_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _csv(tmp_path / "data" / "a.csv", "id\n1\n")
    _csv(tmp_path / "data" / "b.csv", "id\n2\n")
    monkeypatch.chdir(tmp_path)
    assert FileSource("s", "data/*.csv").read().table.column("id").to_pylist() == [1, 2]
