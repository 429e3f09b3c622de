"""nlayer.data on good files: CSV and NPZ tables, label encoding, task inference."""

from __future__ import annotations

import numpy as np
import pytest

import nlayer
from nlayer.data import MAX_CLASSES, Table, check_scalable, check_task, encode_labels, infer_task, load_table
from nlayer.errors import ConfigError, DataError

from .conftest import write_file


def test_csv_with_text_labels_in_the_last_column(tmp_path):
    path = write_file(tmp_path, "x1,x2,species\n1,2.5,setosa\n-3e2, .5 ,virginica\n+4,0,setosa\n")
    t = load_table(path)
    assert isinstance(t, Table)
    assert t.feature_names == ["x1", "x2"] and t.target_name == "species" and t.source == str(path)
    assert t.X.dtype == np.float64 and t.X.shape == (3, 2)
    np.testing.assert_array_equal(t.X, [[1, 2.5], [-300, 0.5], [4, 0]])
    assert t.y.dtype.kind == "U" and list(t.y) == ["setosa", "virginica", "setosa"]


def test_csv_target_by_name_and_numeric_target_is_float64(tmp_path):
    path = write_file(tmp_path, "price,rooms,area\n100.5,3,70\n200,4,95\n")
    t = load_table(path, target="price")
    assert t.feature_names == ["rooms", "area"] and t.target_name == "price"
    np.testing.assert_array_equal(t.X, [[3, 70], [4, 95]])
    assert t.y.dtype == np.float64 and list(t.y) == [100.5, 200.0]


def test_csv_with_utf8_bom_crlf_quotes_and_blank_lines_parses(tmp_path):
    path = write_file(tmp_path, b'\xef\xbb\xbf"a","b",label\r\n1,2,"yes, really"\r\n\r\n3,4,no\r\n')
    t = load_table(path)
    assert t.feature_names == ["a", "b"] and list(t.y) == ["yes, really", "no"]
    np.testing.assert_array_equal(t.X, [[1, 2], [3, 4]])


def test_csv_integer_labels_stay_numeric(tmp_path):
    t = load_table(write_file(tmp_path, "a,y\n0.1,0\n0.2,2\n0.3,1\n"))
    assert t.y.dtype == np.int64 and infer_task(t.y) == "classify"
    idx, classes = encode_labels(t.y)
    assert classes == [0, 1, 2] and list(idx) == [0, 2, 1]


def test_csv_features_only_for_prediction_inputs(tmp_path):
    t = load_table(write_file(tmp_path, "a,b\n1,2\n"), features_only=True, min_rows=1)
    assert t.feature_names == ["a", "b"] and t.X.shape == (1, 2) and t.y.shape == (0,) and t.target_name == ""


def test_npz_round_trip_with_string_labels(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=np.array(["a", "b", "a", "c"]), extra=np.zeros(2))
    t = load_table(path)
    assert t.X.dtype == np.float64 and np.array_equal(t.X, X)
    assert list(t.y) == ["a", "b", "a", "c"] and t.feature_names == ["x1", "x2", "x3"] and t.target_name == "y"


def test_compressed_and_fortran_order_npz_loads(tmp_path):
    X = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2))
    path = tmp_path / "d.npz"
    np.savez_compressed(path, X=X, y=np.array([1, 0, 1], dtype=np.int64))
    t = load_table(path)
    np.testing.assert_array_equal(t.X, X)
    assert t.y.dtype == np.int64 and list(t.y) == [1, 0, 1]


def test_spiral_saved_as_csv_trains_like_the_arrays(tmp_path):
    X, y = nlayer.datasets.spiral(10, 3, seed=0, dtype="float64")
    lines = ["x,y,label"] + [f"{float(a)!r},{float(b)!r},c{k}" for (a, b), k in zip(X, y)]
    t = load_table(write_file(tmp_path, "\n".join(lines) + "\n"))
    np.testing.assert_array_equal(t.X, X)  # repr round-trips float64 exactly
    idx, classes = encode_labels(t.y)
    assert classes == ["c0", "c1", "c2"] and np.array_equal(idx, y)


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.array(["a", "b"]), "classify"),
        (np.array([True, False]), "classify"),
        (np.array([0.0, 1.0, 1.0]), "classify"),
        (np.arange(MAX_CLASSES, dtype=float), "classify"),
        (np.arange(MAX_CLASSES + 1, dtype=float), "regress"),
        (np.array([0.5, 1.0, 2.0]), "regress"),
        (np.array([3, 1, 2], dtype=np.int64), "classify"),
    ],
)
def test_infer_task_rule(y, task):
    assert infer_task(y) == task


def test_encode_labels_sorts_classes_and_returns_python_types():
    idx, classes = encode_labels(np.array(["b", "a", "c", "a"]))
    assert classes == ["a", "b", "c"] and all(type(c) is str for c in classes)
    assert idx.dtype == np.int64 and list(idx) == [1, 0, 2, 0]
    idx, classes = encode_labels(np.array([7.0, -2.0, 7.0]))
    assert classes == [-2, 7] and all(type(c) is int for c in classes) and list(idx) == [1, 0, 1]


def test_encoded_labels_and_classes_round_trip_through_a_network(tmp_path):
    t = load_table(write_file(tmp_path, "a,b,kind\n0,0,x\n1,1,y\n0,1,x\n1,0,y\n"))
    idx, classes = encode_labels(t.y)
    net = nlayer.Network([2, 4, 2], seed=0, dtype="float64")
    net.classes = classes
    net.fit(t.X, idx, epochs=2, lr=0.1, seed=0)
    assert set(net.predict(t.X)) <= {"x", "y"}


def test_check_task_accepts_matching_targets_and_returns_the_encoded_classes():
    idx, classes = check_task(np.array(["b", "a", "b"]), "classify")
    assert classes == ["a", "b"] and idx.tolist() == [1, 0, 1]
    idx, classes = check_task(np.array([1.0, 0.0]), "classify")
    assert classes == [0, 1] and idx.tolist() == [1, 0]
    assert check_task(np.array([1.5, 0.2]), "regress") is None
    assert check_task(np.array([1.0, 0.0]), "regress") is None


def test_check_task_rejects_a_regression_target_for_classify_naming_column_and_values():
    with pytest.raises(DataError) as info:
        check_task(np.array([1.0, 2.5, 3.0, 0.25]), "classify", name="price")
    message = str(info.value)
    assert "column 'price'" in message and "2.5, 0.25" in message and "--task regress" in message


def test_check_task_rejects_many_whole_number_values_with_few_rows_each_for_classify():
    rng = np.random.default_rng(0)
    prices = rng.integers(25, 346, size=442).astype(float)       # like load_diabetes' target
    with pytest.raises(DataError, match=r"'target' has \d+ distinct numbers over 442 rows .* regression target"):
        check_task(prices, "classify")
    check_task(prices, "regress")
    many_classes = np.repeat(np.arange(30), 5).astype(float)     # 30 classes, 5 rows each: real classes
    check_task(many_classes, "classify")
    check_task(np.repeat([f"c{i}" for i in range(100)], 2), "classify")   # text labels are always classes


def test_check_task_rejects_text_for_regress_and_unknown_tasks():
    with pytest.raises(DataError, match=r"column 'species' holds text labels \('a', 'b'"):
        check_task(np.array(["b", "a"]), "regress", name="species")
    with pytest.raises(ConfigError, match="choose one of: classify, regress"):
        check_task(np.array([1.0]), "cluster")


def test_one_class_target_is_rejected_by_encode_labels_and_check_task():
    with pytest.raises(DataError, match=r"column 'label': every row has the same class \('spam'\)"):
        encode_labels(np.array(["spam", "spam"]), name="label")
    with pytest.raises(DataError, match="at least 2 classes"):
        check_task(np.array([1.0, 1.0, 1.0]), "classify")


def test_encode_labels_rejects_fractions_and_empty_targets():
    with pytest.raises(DataError, match="non-integer values such as 0.5"):
        encode_labels(np.array([0.5, 1.0]))
    with pytest.raises(DataError, match="non-empty 1-D"):
        encode_labels(np.array([]))


# ------------------------------------------------ labels come back as written
def test_integer_labels_beyond_2_53_stay_distinct_and_exact(tmp_path):
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(["9007199254740992", "9007199254740993", "5"] * 2))
    t = load_table(write_file(tmp_path, "a,label\n" + rows))
    assert t.y.dtype == np.int64 and infer_task(t.y) == "classify"
    idx, classes = encode_labels(t.y)
    assert classes == [5, 9007199254740992, 9007199254740993] and list(idx) == [1, 2, 0, 1, 2, 0]


def test_integers_beyond_int64_or_zero_padded_are_text_labels_kept_as_written(tmp_path):
    huge = load_table(write_file(tmp_path, "a,id\n1,10000000000000000001\n2,10000000000000000002\n3,3\n"))
    assert huge.y.dtype.kind == "U"
    assert encode_labels(huge.y)[1] == ["10000000000000000001", "10000000000000000002", "3"]
    padded = load_table(write_file(tmp_path, "a,code\n1,007\n2,010\n3,7\n4,+5\n"))
    assert padded.y.dtype.kind == "U" and list(padded.y) == ["007", "010", "7", "+5"]
    assert infer_task(padded.y) == "classify" and encode_labels(padded.y)[1] == ["+5", "007", "010", "7"]


def test_integers_kept_as_text_can_still_be_regressed():
    assert check_task(np.array(["007", "10000000000000000001", "-3"]), "regress") is None
    with pytest.raises(DataError, match="holds text labels"):
        check_task(np.array(["1.5", "2"]), "regress")


def test_decimal_whole_labels_are_numbers_and_refused_at_or_beyond_2_53(tmp_path):
    t = load_table(write_file(tmp_path, "a,y\n1,1.0\n2,1e0\n3,2\n"))
    assert t.y.dtype == np.float64 and encode_labels(t.y)[1] == [1, 2]
    big = load_table(write_file(tmp_path, "a,y\n1,9007199254740993.0\n2,5.0\n"))
    with pytest.raises(DataError, match=r"data.csv, column 'y': the class label 9007199254740992 .* 2\*\*53"):
        check_task(big.y, "classify", "y", "data.csv")


def test_npz_integer_labels_stay_exact_and_uint64_beyond_int64_become_text(tmp_path):
    X = np.zeros((3, 2))
    np.savez(tmp_path / "i.npz", X=X, y=np.array([2**62 + 1, 2**62, 7], dtype=np.int64))
    assert list(load_table(tmp_path / "i.npz").y) == [2**62 + 1, 2**62, 7]
    np.savez(tmp_path / "u.npz", X=X, y=np.array([2**64 - 1, 2**64 - 2, 1], dtype=np.uint64))
    assert list(load_table(tmp_path / "u.npz").y) == [str(2**64 - 1), str(2**64 - 2), "1"]


def test_npz_target_names_the_array_of_targets(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((3, 2)), label=np.array(["a", "b", "a"]), y=np.zeros(3))
    t = load_table(path, target="label")
    assert t.target_name == "label" and list(t.y) == ["a", "b", "a"]
    with pytest.raises(DataError, match=r"no array named 'kind'; the arrays present are: \['X', 'label', 'y'\]; "
                                        "--target names the array of targets"):
        load_table(path, target="kind")
    with pytest.raises(DataError, match="the target cannot be X"):
        load_table(path, target="X")


def test_task_errors_name_the_file_and_the_real_column():
    with pytest.raises(DataError, match=r"^one.csv, column 'y': every row has the same class \('x'\)"):
        check_task(np.array(["x", "x"]), "classify", "y", "one.csv")
    with pytest.raises(DataError, match=r"^houses.csv, column 'price' is a regression target"):
        check_task(np.array([1.5, 2.5]), "classify", "price", "houses.csv")
    with pytest.raises(DataError, match=r"^train.csv, column 'species' holds text labels"):
        check_task(np.array(["a", "b"]), "regress", "species", "train.csv")


# ------------------------------------------------------------ standardisation
def test_a_column_spanning_more_than_float32_is_refused_naming_file_column_and_fix(tmp_path):
    t = load_table(write_file(tmp_path, "a,b,y\n1,3e38,x\n2,-3e38,y\n3,4,x\n4,5,y\n"))
    with pytest.raises(DataError, match=r"^.*data.csv, column 'b': values from -3e\+38 to 3e\+38 cannot be "
                                        r"standardised in float32, whose largest number is 3.4e\+38; rescale the "
                                        r"column \(for example, express it in millions\) or train with --dtype "
                                        r"float64$"):
        check_scalable(t, np.float32)
    check_scalable(t, np.float64)                          # the same values fit float64's range
    beyond = Table(np.array([[1.0], [1e39]]), np.zeros(2), ["c"], "y", "d.csv")
    with pytest.raises(DataError, match=r"d.csv, column 'c': values from 1 to 1e\+39 cannot be standardised in "
                                        "float32"):          # a value beyond float32 itself
        check_scalable(beyond, np.float32)
    huge = Table(np.array([[1.5e308], [-1.5e308]]), np.zeros(2), ["c"], "y", "d.csv")
    with pytest.raises(DataError, match=r"in float64, whose largest number is 1.8e\+308; rescale the column "
                                        r"\(for example, express it in millions\)$"):
        check_scalable(huge, np.float64)


@pytest.mark.parametrize("size", [1e20, 1e30, 1.6e38])
def test_a_column_accepted_as_scalable_standardises_to_unit_scale_in_float32(size):
    X = np.tile([[size], [-size], [0.5 * size]], (50, 1))   # 150 rows: sums of squares far beyond float32
    table = Table(X, np.zeros(150), ["c"], "y", "d.csv")
    check_scalable(table, np.float32)                      # once refused from about 1.3e19 on
    net = nlayer.Network([1, 2, 2], seed=0)                # float32; its statistics are computed in float64
    net.fit_input_scaling(X)                               # no overflow warning (pytest -W error)
    Z = net.standardize(net.prepare_X(X, standardize=False))
    assert np.all(np.isfinite(net.input_mean)) and np.all(np.isfinite(net.input_scale))
    np.testing.assert_allclose([Z.mean(), Z.std()], [0.0, 1.0], atol=1e-5)


# ------------------------------------------------------------ row lines
def test_csv_tables_keep_the_editor_line_of_every_data_row(tmp_path):
    t = load_table(write_file(tmp_path, 'a,b,y\n\n1,2,x\n3,4,"two\nlines"\n\n\n5,6,x\n'))
    assert t.lines is not None and t.lines.dtype == np.int64
    assert t.lines.tolist() == [3, 4, 8]                   # blank lines counted; a quoted break: where it starts
    inputs = load_table(write_file(tmp_path, "a,b\n1,2\n\n3,4\n", "inputs.csv"), features_only=True)
    assert inputs.lines.tolist() == [2, 4]


def test_an_error_in_a_row_with_a_quoted_line_break_names_the_line_the_row_starts_on(tmp_path):
    with pytest.raises(DataError, match=r"line 3, column 'a': 'x' is not a number"):
        load_table(write_file(tmp_path, 'a,b,label\n0.1,0.2,cat\nx,0.2,"ca\nt"\n'))


def test_npz_tables_have_no_lines(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((3, 2)), y=np.array([0, 1, 0]))
    assert load_table(path).lines is None
