"""nlayer.data on broken and hostile files: one DataError naming file, line and column;
nothing unpickled, nothing created."""

from __future__ import annotations

import io as stdio
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlayer.data import load_table
from nlayer.errors import DataError

from .conftest import write_file


def _error(path, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        load_table(path, **kwargs)
    message = str(info.value)
    assert str(path) in message, message
    assert "\n" not in message  # one line, ready for a CLI
    return message


# --------------------------------------------------------------------------- CSV
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("a,b,y\n", "0 data row(s); at least 2 are needed"),
        ("a,b,y\n1,2,0\n", "1 data row(s); at least 2 are needed"),
        ("y\n1\n2\n", "only one column ('y'); a CSV needs feature columns and a target column"),
    ],
    ids=["empty", "blank-lines", "header-only", "single-row", "single-column"],
)
def test_too_little_data(tmp_path, content, expected):
    assert expected in _error(write_file(tmp_path, content))


def test_single_row_is_accepted_when_asked_for_prediction(tmp_path):
    assert load_table(write_file(tmp_path, "a,b,y\n1,2,0\n"), min_rows=1).X.shape == (1, 2)


def test_ragged_row_is_named(tmp_path):
    message = _error(write_file(tmp_path, "a,b,y\n1,2,0\n3,4\n5,6,1\n"))
    assert "line 3: 2 fields but the header has 3" in message


def test_trailing_comma_in_a_row_is_named(tmp_path):
    message = _error(write_file(tmp_path, "a,b,y\n1,2,0\n3,4,1,\n"))
    assert "line 3: 4 fields but the header has 3 (a trailing comma?)" in message


def test_trailing_comma_in_the_header_is_named(tmp_path):
    assert "line 1: column 4 of the header has no name" in _error(write_file(tmp_path, "a,b,y,\n1,2,0,\n3,4,1,\n"))


def test_empty_field_is_named(tmp_path):
    message = _error(write_file(tmp_path, "a,b,y\n1,2,0\n3,,1\n"))
    assert "line 3, column 'b': empty field" in message


def test_empty_target_is_named(tmp_path):
    assert "line 2, column 'y': empty target" in _error(write_file(tmp_path, "a,b,y\n1,2, \n3,4,1\n"))


@pytest.mark.parametrize("cell", ["abc", "1,5", "0x10", "1_000", "١٢", "--1", "1e", "True"])
def test_non_numeric_feature_cell_names_file_line_and_column(tmp_path, cell):
    quoted = '"' + cell + '"'
    message = _error(write_file(tmp_path, f"a,b,y\n1,2,0\n3,4,1\n5,{quoted},0\n"))
    assert f"line 4, column 'b': {cell!r} is not a number" in message


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path):
    message = _error(write_file(tmp_path, 'a,b,y\n1,2,"multi\nline"\n\n3,x,1\n'))
    assert "line 5, column 'b'" in message


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("nan", "'nan' is not a finite number"),
        ("NaN", "'NaN' is not a finite number"),
        ("inf", "'inf' is not a finite number"),
        ("-Infinity", "'-Infinity' is not a finite number"),
        ("1e309", "'1e309' overflows a 64-bit float"),
        ("-1e400", "'-1e400' overflows a 64-bit float"),
    ],
)
@pytest.mark.parametrize("column", ["a", "y"])
def test_non_finite_cells_are_rejected_in_features_and_numeric_targets(tmp_path, cell, expected, column):
    rows = {"a": f"{cell},2,0", "y": f"1,2,{cell}"}[column]
    message = _error(write_file(tmp_path, f"a,b,y\n1,2,0\n{rows}\n3,4,1\n"))
    assert f"line 3, column '{column}': {expected}" in message


def test_invalid_utf8_is_named_with_its_line(tmp_path):
    message = _error(write_file(tmp_path, b"a,b,y\n1,2,0\n3,4,caf\xe9\n"))
    assert "line 3: byte 0xe9 is not valid UTF-8" in message


@pytest.mark.parametrize(
    "content",
    [b"a,b,y\n1,2,0\n1,\x002,1\n", "a,b,y\n1,2,0\n".encode("utf-16")],
    ids=["nul-byte", "utf-16"],
)
def test_nul_bytes_are_rejected(tmp_path, content):
    assert "NUL byte" in _error(write_file(tmp_path, content))


def test_unclosed_quote_is_named(tmp_path):
    message = _error(write_file(tmp_path, 'a,b,y\n1,2,0\n3,"4,1\n5,6,0\n'))
    assert "malformed CSV" in message and "unclosed quote" in message


def test_target_column_not_found_lists_the_columns(tmp_path):
    message = _error(write_file(tmp_path, "a,b,y\n1,2,0\n3,4,1\n"), target="label")
    assert "no column named 'label'; the columns are: a, b, y" in message


def test_duplicate_column_names_and_headerless_files_are_refused(tmp_path):
    assert "duplicate column name(s) ['a']" in _error(write_file(tmp_path, "a,a,y\n1,2,0\n3,4,1\n"))
    assert "needs a header row" in _error(write_file(tmp_path, "1,2,0\n3,4,1\n5,6,0\n"))


@pytest.mark.parametrize("kind", ["missing", "directory"])
@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_missing_file_or_directory(tmp_path, kind, suffix):
    path = tmp_path / f"data{suffix}"
    if kind == "directory":
        path.mkdir()
    expected = "no such file" if kind == "missing" else "not a data file"
    assert expected in _error(path)


def test_unsupported_extension(tmp_path):
    assert "unsupported file type '.xlsx'" in _error(write_file(tmp_path, "a,y\n1,0\n", "data.xlsx"))


# --------------------------------------------------------------------------- NPZ
def _npz(tmp_path, name: str = "data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


X4, Y4 = np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"X": X4}, "no array named 'y'; the arrays present are: ['X']"),
        ({"features": X4, "labels": Y4}, "no array named 'X' or 'y'; the arrays present are: ['features', 'labels']"),
        ({}, "no array named 'X' or 'y'; the arrays present are: none"),
    ],
)
def test_npz_missing_keys_lists_the_keys_present(tmp_path, arrays, expected):
    assert expected in _error(_npz(tmp_path, **arrays))


def test_npz_object_array_is_refused_and_never_unpickled(tmp_path):
    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(sentinel),))

    y = np.empty(4, dtype=object)
    y[:] = [Payload(), 1, 0, 1]
    path = _npz(tmp_path, X=X4, y=y)
    assert "array 'y' holds Python objects (dtype object); nlayer never unpickles" in _error(path)
    assert not sentinel.exists()
    with np.load(path, allow_pickle=True) as npz:
        npz["y"]  # the payload is live: numpy's own pickle path would have run it
    assert sentinel.is_dir()


def test_pickle_renamed_to_npz_is_refused_and_never_run(tmp_path):
    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (str(sentinel),))

    path = write_file(tmp_path, pickle.dumps({"X": Payload()}), "data.npz")
    assert "not an NPZ archive" in _error(path)
    assert not sentinel.exists()


def test_npz_corrupt_member_is_named(tmp_path):
    path = _npz(tmp_path, X=X4, y=Y4)
    data = bytearray(path.read_bytes())
    at = data.index(b"\x00\x00\x00\x00\x00\x00\xf0?")  # 1.0 inside X's payload
    data[at + 7] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "corrupt NPZ archive (BadZipFile" in _error(path)


def test_npz_truncated_archive_is_named(tmp_path):
    path = _npz(tmp_path, X=X4, y=Y4)
    path.write_bytes(path.read_bytes()[:100])
    assert "corrupt NPZ archive" in _error(path)


def test_npy_header_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    buf = stdio.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
    path = tmp_path / "data.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", buf.getvalue() + bytes(64))
        zf.writestr("y.npy", buf.getvalue())
    assert "array 'X' declares shape (1000000, 1000000) of float64 (8000000000000 bytes) but holds 64" in _error(path)


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"X": X4, "y": Y4[:3]}, "X has 4 rows but y has 3"),
        ({"X": X4[:, 0], "y": Y4}, "X must be a 2-D array of real numbers; got shape (4,)"),
        ({"X": np.zeros((2, 2, 2)), "y": Y4[:2]}, "got shape (2, 2, 2)"),
        ({"X": X4.astype(complex), "y": Y4}, "dtype complex128"),
        ({"X": X4.astype(str), "y": Y4}, "X must be a 2-D array of real numbers"),
        ({"X": X4, "y": np.zeros((4, 2))}, "y must be a 1-D array"),
        ({"X": np.where(X4 == 5, np.nan, X4), "y": Y4}, "X[2, 1] is nan"),
        ({"X": np.where(X4 == 6, np.inf, X4), "y": Y4}, "X[3, 0] is inf"),
        ({"X": X4, "y": np.array([0, 1, np.nan, 1])}, "y[2] is nan"),
        ({"X": X4[:1], "y": Y4[:1]}, "1 data row(s)"),
    ],
)
def test_npz_bad_arrays(tmp_path, arrays, expected):
    assert expected in _error(_npz(tmp_path, **arrays))


def test_npz_float32_inf_from_overflow_is_rejected(tmp_path):
    X = X4.astype(np.float32)
    X[0, 0] = np.float32(np.inf)
    assert "X[0, 0] is inf" in _error(_npz(tmp_path, X=X, y=Y4))


# ---------------------------------------------------------------------- fuzzing
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | st.text(alphabet='ab,y01.\n"e-\r\t ', max_size=80).map(str.encode))
def test_fuzz_csv_bytes_give_a_table_or_data_error(tmp_path, content):
    path = write_file(tmp_path, b"a,b,y\n" + content)
    try:
        t = load_table(path)
    except DataError:
        return
    assert t.X.shape[1] == 2 and np.all(np.isfinite(t.X)) and len(t.y) == len(t.X) >= 2


def test_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    import nlayer.data

    def denied(where):
        raise PermissionError(13, "Permission denied", where)

    monkeypatch.setattr(nlayer.data, "_read_bytes", denied)
    assert "cannot read (Permission denied)" in _error(write_file(tmp_path, "a,y\n1,0\n2,1\n"))


# ------------------------------------------- column counts before any value
def test_npz_shapes_are_checked_from_the_headers_before_any_data_is_read(tmp_path, monkeypatch):
    import nlayer._npz
    from nlayer.data import ColumnCountError

    def never(*args):
        raise AssertionError("array data read before the headers were checked")

    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, X=np.zeros((1000, 10)), y=np.zeros(999))
    monkeypatch.setattr(nlayer._npz, "_npy_data", never)
    with pytest.raises(ColumnCountError, match="X has 10 column"):
        load_table(path, features_only=True, n_features=3)
    assert "X has 1000 rows but y has 999" in _error(path)


def test_csv_column_count_is_checked_from_the_header_before_the_cells(tmp_path):
    from nlayer.data import ColumnCountError

    path = write_file(tmp_path, "a,b,species\n,oops,setosa\n")
    with pytest.raises(ColumnCountError, match=r"data.csv: 2 feature column\(s\) besides the target 'species'; "
                                               "the model expects 3") as info:
        load_table(path, n_features=3, min_rows=1)
    assert info.value.found == 3
