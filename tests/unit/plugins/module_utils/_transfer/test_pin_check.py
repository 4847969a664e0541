"""pin_check: the one size/sha256/md5 comparison of the model_file module and action."""
from ansible_collections.voiceagent.models.plugins.module_utils._transfer.pin_check import mismatches, pins_text


def test_only_what_is_pinned_is_compared():
    actual = {"size": 10, "sha256": "a" * 64, "md5": "b" * 32}
    assert mismatches({"size": None, "sha256": None, "md5": ""}, actual) == []
    assert mismatches({"size": 10, "sha256": "a" * 64, "md5": "b" * 32}, actual) == []


def test_every_mismatch_is_named_in_the_order_asked():
    actual = {"size": 10, "sha256": "a" * 64, "md5": "b" * 32}
    expected = {"size": 11, "sha256": "c" * 64, "md5": "d" * 32}
    assert mismatches(expected, actual) == [("size", 10, 11), ("sha256", "a" * 64, "c" * 64),
                                            ("md5", "b" * 32, "d" * 32)]
    assert [name for name, _got, _want in mismatches(expected, actual, ("size", "md5", "sha256"))] == [
        "size", "md5", "sha256"]


def test_a_size_of_zero_is_a_pin_and_a_missing_actual_value_is_a_mismatch():
    assert mismatches({"size": 0}, {"size": 5}, ("size",)) == [("size", 5, 0)]
    assert mismatches({"md5": "b" * 32}, {}, ("md5",)) == [("md5", None, "b" * 32)]


def test_pins_in_words():
    assert pins_text({"size": None, "sha256": None, "md5": None}) == "no pinned size or digest"
    assert pins_text({"size": 3, "sha256": "a" * 64, "md5": None}) == "3 bytes, sha256 " + "a" * 64
