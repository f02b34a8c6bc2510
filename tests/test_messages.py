"""The one message family, its Chinese table and the one whole-number rule."""
import pickle

import pytest

import explorer  # noqa: F401
from explorer import validation
from explorer.messages import Joined, Message, Refusal, define, missing_translations, word


def test_every_code_has_chinese():
    import importlib
    import pkgutil

    import explorer as package

    for info in pkgutil.walk_packages(package.__path__, "explorer."):  # every module defines its codes on import
        if not info.name.endswith("__main__"):
            try:
                importlib.import_module(info.name)
            except ImportError:  # optional extras (e.g. a serving engine) may be missing
                continue
    assert missing_translations() == []


def test_refusal_words_nested_messages_in_each_language_and_pickles():
    with pytest.raises(Refusal) as caught:
        validation.seed(-1)
    error = caught.value
    assert str(error) == f"seed must be between 0 and {validation.MAX_SEED}, got -1"
    assert word(error, "zh") == f"种子必须在 0 到 {validation.MAX_SEED} 之间，收到 -1"
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is Refusal and again.message == error.message and str(again) == str(error)


def test_define_refuses_a_second_different_template():
    define({"test.once": "a"})
    define({"test.once": "a"})
    with pytest.raises(ValueError):
        define({"test.once": "b"})
    with pytest.raises(KeyError):
        Message("test.never-defined")


def test_joined_uses_each_languages_separator():
    joined = Joined([Message("field.seed"), Message("field.seed")])
    assert word(joined, "en") == "seed; seed" and word(joined, "zh") == "种子；种子"
    assert pickle.loads(pickle.dumps(joined)) == joined


@pytest.mark.parametrize("value, expected", [(3, 3), (3.0, 3), ("3", 3), (" 12 ", 12), ("-0", 0), ("7.00", 7),
                                             (2**32 - 1, 2**32 - 1)])
def test_whole_numbers_accepted(value, expected):
    assert validation.whole_number(value, "n", -5, 2**32) == expected


@pytest.mark.parametrize("value, code", [(None, "number.empty"), ("  ", "number.empty"), (True, "number.not_whole"),
                                         (1.5, "number.not_whole"), ("1.5", "number.not_whole"),
                                         ("1e2", "number.not_whole"), ("0x10", "number.not_whole"),
                                         (float("nan"), "number.not_whole"), (float("inf"), "number.not_whole"),
                                         ("abc", "number.not_whole"), (11, "number.out_of_range"),
                                         (-6, "number.out_of_range")])
def test_whole_numbers_refused_with_a_code(value, code):
    with pytest.raises(Refusal) as caught:
        validation.whole_number(value, "n", -5, 10)
    assert caught.value.code == code and "n" in str(caught.value)


def test_one_seed_range_everywhere():
    assert validation.seed(2**31) == 2**31
    with pytest.raises(Refusal):
        validation.seed(2**32)


@pytest.mark.parametrize("value", [None, True, "x", float("nan"), 21.0])
def test_real_numbers_refused(value):
    with pytest.raises(Refusal):
        validation.real_number(value, "guidance", 0, 20)
