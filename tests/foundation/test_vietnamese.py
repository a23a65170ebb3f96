"""Vietnamese names as rosters bring them: NFC whatever the input, legacy TCVN3/VNI and double-encoded
UTF-8 found and converted (or refused when a file mixes them), search without accents, collation."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from congress import vietnamese as vn

# Real names: party and state figures, scholars, common family names (every tone and vowel mark).
NAMES = [
    "Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Đức Thọ", "Phạm Minh Chính", "Võ Văn Thưởng",
    "Đặng Thị Ngọc Thịnh", "Hồ Chí Minh", "Bùi Thị Xuân", "Ngô Bảo Châu", "Dương Văn Minh",
    "Hoàng Thị Lý", "Phan Bội Châu", "Vũ Khoan", "Quách Thị Hường", "Lương Thế Vinh", "Trương Tấn Sang",
    "Nông Đức Mạnh", "Huỳnh Tấn Phát", "Đỗ Mười", "Ưng Hoàng Phúc", "Tôn Đức Thắng", "Nguyễn Thị Định",
    "Lý Thường Kiệt", "Trịnh Công Sơn", "Hà Huy Tập", "Nguyễn Phú Trọng", "Đào Duy Anh", "Ỷ Lan",
]

# The same names as old office files hold them (typed in .VnTime / VNI-Times fonts).
TCVN3 = {"Nguyễn Văn An": "NguyÔn V¨n An", "Trần Thị Bích Ngọc": "TrÇn ThÞ BÝch Ngäc",
         "Lê Đức Thọ": "Lª §øc Thä", "Võ Văn Thưởng": "Vâ V¨n Th\xadëng",
         "Lương Thế Vinh": "L\xad¬ng ThÕ Vinh"}
VNI = {"Nguyễn Văn An": "Nguyeãn Vaên An", "Trần Thị Bích Ngọc": "Traàn Thò Bích Ngoïc",
       "Lê Đức Thọ": "Leâ Ñöùc Thoï", "Võ Văn Thưởng": "Voõ Vaên Thöôûng",
       "Lương Thế Vinh": "Löông Theá Vinh"}


def as_cp1252(text: str) -> str:
    """UTF-8 bytes shown as Windows-1252 (undefined bytes pass as the control characters)."""
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in text.encode("utf-8"))


def test_nfc_whatever_the_input():
    for name in NAMES:
        for form in ("NFD", "NFKD", "NFC"):
            messy = "  " + unicodedata.normalize(form, name).replace(" ", " \t ") + "\n"
            assert vn.nfc(messy) == name
            assert unicodedata.is_normalized("NFC", vn.nfc(messy))


@pytest.mark.parametrize("unicode_name, legacy", TCVN3.items())
def test_tcvn3_is_converted(unicode_name, legacy):
    assert vn.repair(legacy, vn.Encoding.TCVN3) == unicode_name
    assert vn.detect(legacy, min_signs=1) is vn.Encoding.TCVN3


@pytest.mark.parametrize("unicode_name, legacy", VNI.items())
def test_vni_is_converted(unicode_name, legacy):
    assert vn.repair(legacy, vn.Encoding.VNI) == unicode_name
    assert vn.detect(legacy, min_signs=1) is vn.Encoding.VNI


@pytest.mark.parametrize("name", NAMES)
def test_utf8_read_as_windows_1252_is_repaired(name):
    broken = as_cp1252(name)
    assert broken != name
    assert vn.detect(broken) is vn.Encoding.MOJIBAKE
    assert vn.repair(broken) == name


def test_unicode_names_are_left_alone():
    for name in [*NAMES, "Ada Lovelace", "José Martí", "François Mitterrand", "Søren Kierkegaard"]:
        assert vn.repair(name) == name
    assert vn.detect_all(NAMES) is vn.Encoding.UNICODE


def test_a_whole_file_decides_the_encoding():
    assert vn.detect("Lª §øc Thä") is vn.Encoding.TCVN3  # four signs: clear on its own
    assert vn.detect("NguyÔn V¨n An") is vn.Encoding.UNICODE  # one sign: not on its own...
    encoding, fixed = vn.repair_all([*TCVN3.values(), "§oµn H\xadng Yªn"])
    assert encoding is vn.Encoding.TCVN3
    assert fixed[:5] == list(TCVN3) and fixed[5] == "Đoàn Hưng Yên"
    assert vn.repair_all(list(VNI.values())) == (vn.Encoding.VNI, list(VNI))
    # one foreign name with a ç or an ñ is not enough to call a file legacy
    assert vn.repair_all(["François", "Muñoz", "Ada"]) == (vn.Encoding.UNICODE, ["François", "Muñoz", "Ada"])


def test_a_mixed_file_is_refused_with_what_to_do():
    with pytest.raises(vn.LegacyEncodingError) as exc:
        vn.repair_all(NAMES[:5] + list(TCVN3.values()))
    assert "mixes Unicode" in str(exc.value) and "Unicode" in exc.value.hint and "UniKey" in exc.value.hint
    assert exc.value.text.params == {"unicode": 5, "legacy": 5}


def test_search_folds_tones_marks_case_and_d_stroke():
    assert vn.fold("Nguyễn Đức Thọ") == "nguyen duc tho"
    assert vn.fold("nguyen") in vn.fold("Nguyễn Văn An")
    assert vn.fold("DANG") == vn.fold("Đặng")
    assert vn.fold(unicodedata.normalize("NFD", "Ưng Hoàng Phúc")) == "ung hoang phuc"


def test_collation_follows_the_vietnamese_alphabet():
    # a < ă < â, d < đ, e < ê, o < ô < ơ, u < ư; and words compare one by one
    assert vn.sorted_names(["Âu", "Ăn", "An"]) == ["An", "Ăn", "Âu"]
    assert vn.sorted_names(["Đào", "Dương", "Diệp"]) == ["Diệp", "Dương", "Đào"]
    assert vn.sorted_names(["Ơn", "Ông", "Oanh"]) == ["Oanh", "Ông", "Ơn"]
    assert vn.sorted_names(["Ưng", "Uông", "Vũ"]) == ["Uông", "Ưng", "Vũ"]
    # syllable by syllable, as dictionaries list them: lê, lê dương, lệ
    assert vn.sorted_names(["Lệ", "Lê Văn", "Lê"]) == ["Lê", "Lê Văn", "Lệ"]
    # a plain ASCII sort gets this wrong: "Đ" sorts after "Z" by code point
    assert sorted(["Đỗ", "Dương", "Vũ"]) == ["Dương", "Vũ", "Đỗ"]
    assert vn.sorted_names(["Đỗ", "Dương", "Vũ"]) == ["Dương", "Đỗ", "Vũ"]


def test_tones_sort_as_dictionaries_do():
    # ngang, huyền, hỏi, ngã, sắc, nặng
    assert vn.sorted_names(["má", "mạ", "mà", "mã", "ma", "mả"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    # the letters decide first, the tone only between otherwise equal words
    assert vn.sorted_names(["Bá", "Ba", "Bac"]) == ["Ba", "Bá", "Bac"]


def test_people_by_given_name():
    people = ["Nguyễn Văn An", "Trần Thị Bích Ngọc", "Lê Đức Thọ", "Ngô Bảo Châu", "Phan Bội Châu", "Đỗ Mười"]
    assert vn.sorted_names(people, given_first=True) == [
        "Nguyễn Văn An", "Ngô Bảo Châu", "Phan Bội Châu", "Đỗ Mười", "Trần Thị Bích Ngọc", "Lê Đức Thọ"]
    assert vn.sorted_names(people) == [
        "Đỗ Mười", "Lê Đức Thọ", "Ngô Bảo Châu", "Nguyễn Văn An", "Phan Bội Châu", "Trần Thị Bích Ngọc"]


def test_sort_key_is_independent_of_normal_form():
    for name in NAMES:
        assert vn.sort_key(unicodedata.normalize("NFD", name)) == vn.sort_key(name)


@given(st.lists(st.sampled_from(NAMES), min_size=2, max_size=12))
def test_sorting_is_a_total_order_consistent_with_equality(names):
    once = vn.sorted_names(names)
    assert vn.sorted_names(list(reversed(names))) == once
    assert vn.sorted_names(once) == once
