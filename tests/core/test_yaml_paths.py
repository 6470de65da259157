"""The shared YAML reader names the line of what it cannot read, dates included."""

import datetime as dt

import pytest

from hygie.core.yaml_paths import YamlFileError, read_yaml


def test_a_valid_document_is_read_with_its_dates():
    _text, document = read_yaml(b"name: Windows 7\neol: 2020-01-14\n", max_bytes=1000)
    assert document == {"name": "Windows 7", "eol": dt.date(2020, 1, 14)}


def test_an_impossible_date_is_named_with_its_line():
    with pytest.raises(YamlFileError) as caught:
        read_yaml(b"name: Windows 7\nreleased: 2009-10-22\neol: 2030-13-01\n", max_bytes=1000)
    assert caught.value.line == 3
    assert "2030-13-01" in str(caught.value)


def test_a_syntax_error_and_an_oversized_file_are_named():
    with pytest.raises(YamlFileError) as caught:
        read_yaml(b"a: 1\nb: [unclosed\n", max_bytes=1000)
    assert caught.value.line is not None
    with pytest.raises(YamlFileError, match="Ko"):
        read_yaml(b"a: 1\n" * 400, max_bytes=1000)
