"""Legacy encodings (TCVN3/ABC, VNI) detected and converted; Unicode left alone; language check."""

from __future__ import annotations

from controller.synthesis import vietnamese as vn

TEXT = "Thủ tướng Chính phủ đã phê duyệt kế hoạch phát triển giáo dục ở vùng núi phía Bắc."
TCVN3 = "Thñ t\xadíng ChÝnh phñ ®· phª duyÖt kÕ ho¹ch ph¸t triÓn gi¸o dôc ë vïng nói phÝa B¾c."
VNI = "Thuû töôùng Chính phuû ñaõ pheâ duyeät keá hoaïch phaùt trieån giaùo duïc ôû vuøng nuùi phía Baéc."


def test_tcvn3_is_detected_and_converted():
    r = vn.repair(TCVN3)
    assert (r.encoding, r.converted, r.text) == (vn.Encoding.TCVN3, True, TEXT)
    assert len(TCVN3) == len(r.text)  # one code per letter: offsets survive the conversion


def test_tcvn3_bytes_as_a_legacy_file_gives_them():
    data = TCVN3.encode("latin-1")
    text, codec = vn.decode(data)
    assert codec == "latin-1" and vn.repair(text).text == TEXT


def test_vni_is_detected_and_converted():
    r = vn.repair(VNI)
    assert (r.encoding, r.converted, r.text) == (vn.Encoding.VNI, True, TEXT)
    assert vn.repair("Xin chaøo caùc baïn, Vieät Nam").text == "Xin chào các bạn, Việt Nam"
    assert vn.repair("ÑAÏI HOÄI").text == "ĐẠI HỘI"


def test_unicode_vietnamese_is_left_alone_even_with_latin1_letters():
    for text in (
        TEXT,
        "Hoàn thành kế hoạch năm, hòa bình và ổn định.",
        "Đại hội đại biểu toàn quốc lần thứ XIV",
    ):
        r = vn.repair(text)
        assert (r.encoding, r.converted, r.doubtful, r.text) == (vn.Encoding.UNICODE, False, False, text)


def test_nfd_input_is_normalised():
    import unicodedata

    assert vn.repair(unicodedata.normalize("NFD", TEXT)).text == TEXT


def test_other_text_is_not_converted_and_marks_without_vietnamese_are_doubtful():
    english = vn.repair("The committee approved the budget for the coming year.")
    assert not english.converted and not english.doubtful
    garbage = vn.repair("¤¥¦§ ©ª«¬ ®¯°± ²³´µ ¶·¸¹ º»¼½ ¾¿ÀÁ")
    assert not garbage.converted and garbage.doubtful


def _cp1258(text: str) -> bytes:
    """Windows-1258 writes letters with their shape (â, ơ, đ) and the tone as a combining mark."""
    import unicodedata

    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones)) + tones)
    return "".join(out).encode("cp1258")


def test_windows_1258_bytes_are_decoded():
    data = _cp1258("Đại hội thông qua nghị quyết về giáo dục")
    text, codec = vn.decode(data)
    assert codec == "cp1258" and text == "Đại hội thông qua nghị quyết về giáo dục"
    assert vn.decode("Việt Nam".encode("utf-8-sig")) == ("Việt Nam", "utf-8")
    assert vn.decode("Việt Nam".encode("utf-16")) == ("Việt Nam", "utf-16")


def test_language_check():
    assert vn.vietnamese_share(TEXT).is_vietnamese
    assert not vn.vietnamese_share(
        "The delegates discussed the budget of the education sector."
    ).is_vietnamese
    assert not vn.vietnamese_share("Les délégués ont discuté du budget de l'éducation.").is_vietnamese
    assert not vn.vietnamese_share("会议讨论了教育预算").is_vietnamese
    assert vn.is_syllable("nghiêng") and vn.is_syllable("thuở") and not vn.is_syllable("school")


def test_utf8_read_as_windows_1252_is_repaired():
    raw = TEXT.encode("utf-8")
    mojibake = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in raw)
    assert mojibake.startswith("Thá»§ tÆ°á»›ng")
    r = vn.repair(mojibake)
    assert (r.encoding, r.converted, r.text) == (vn.Encoding.MOJIBAKE, True, TEXT)
