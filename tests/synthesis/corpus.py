"""A seeded Vietnamese agenda item whose truth is known: which delegate raised which topic.

Six topics, each with its own bank of sentences (written for these tests), so a correct synthesis
must find six themes, and each theme's count must equal the delegates who drew from that topic.
Contributions open with a salutation and close with thanks, as speeches do.
"""

from __future__ import annotations

import random

from controller.synthesis.records import Contribution, SourceKind

TOPICS = {
    "teachers": [
        "Lương giáo viên mầm non hiện nay còn quá thấp so với công sức các cô bỏ ra mỗi ngày.",
        "Cần nâng lương và phụ cấp cho giáo viên mầm non để giữ chân các cô ở lại với nghề.",
        "Nhiều giáo viên mầm non phải làm thêm buổi tối vì lương giáo viên không đủ sống.",
        "Vùng sâu vùng xa thiếu giáo viên mầm non vì lương giáo viên mầm non quá thấp.",
        "Đề nghị có chính sách tiền lương riêng cho giáo viên mầm non ở miền núi.",
    ],
    "insurance": [
        "Thủ tục thanh toán bảo hiểm y tế tại bệnh viện tuyến huyện còn rườm rà, người bệnh phải chờ lâu.",
        "Người có thẻ bảo hiểm y tế vẫn phải tự mua thuốc vì bệnh viện thiếu thuốc bảo hiểm y tế.",
        "Cần mở rộng danh mục thuốc được bảo hiểm y tế chi trả cho người bệnh mãn tính.",
        "Quỹ bảo hiểm y tế cần được quản lý minh bạch để bệnh viện thanh toán bảo hiểm y tế đúng và đủ.",
        "Nhiều hộ nghèo chưa tham gia bảo hiểm y tế vì mức đóng bảo hiểm y tế còn cao so với thu nhập.",
    ],
    "land": [
        "Giá đất bồi thường khi thu hồi đất nông nghiệp thấp hơn nhiều so với giá đất thị trường.",
        "Việc thu hồi đất để làm dự án phải công khai giá đất và phương án bồi thường đất cho dân.",
        "Khiếu nại về thu hồi đất chiếm phần lớn đơn thư, chủ yếu do giá đất bồi thường chưa thỏa đáng.",
        "Người dân bị thu hồi đất cần được bồi thường theo giá đất sát với thực tế "
        "và được hỗ trợ tái định cư.",
        "Bảng giá đất để tính bồi thường khi thu hồi đất phải sát với giá đất chuyển nhượng thực tế.",
    ],
    "plastic": [
        "Rác thải nhựa dùng một lần đang gây ô nhiễm nghiêm trọng các bãi biển và cửa sông.",
        "Đề nghị đánh thuế cao hơn với đồ nhựa dùng một lần để giảm rác thải nhựa ra môi trường.",
        "Các địa phương ven biển cần đầu tư nhà máy tái chế rác thải nhựa thay vì chôn lấp rác thải nhựa.",
        "Người dân cần được hướng dẫn phân loại rác thải nhựa tại nguồn để tái chế rác thải nhựa.",
        "Rác thải nhựa trôi ra biển làm chết sinh vật biển và ảnh hưởng đến nghề cá của ngư dân.",
    ],
    "digital": [
        "Dịch vụ công trực tuyến còn ít người dùng vì giao diện cổng dịch vụ công phức tạp và hay lỗi.",
        "Cần kết nối dữ liệu dân cư với dịch vụ công trực tuyến để người dân không phải khai lại giấy tờ.",
        "Cán bộ cấp xã cần được đào tạo để hướng dẫn người dân sử dụng dịch vụ công trực tuyến.",
        "Người dân vùng núi khó làm thủ tục trên cổng dịch vụ công trực tuyến vì mạng internet còn yếu.",
        "Dữ liệu cá nhân trên cổng dịch vụ công trực tuyến phải được bảo mật tuyệt đối.",
    ],
    "roads": [
        "Tuyến quốc lộ qua tỉnh xuống cấp nghiêm trọng, "
        "mặt đường quốc lộ ổ gà dày đặc gây tai nạn giao thông.",
        "Đề nghị bố trí vốn sửa chữa quốc lộ trước mùa mưa bão vì đường quốc lộ đã hư hỏng nặng.",
        "Dự án mở rộng quốc lộ chậm tiến độ nhiều năm do vướng mặt bằng và thiếu vốn.",
        "Xe quá tải chạy trên quốc lộ làm đường nhanh hỏng, cần kiểm soát tải trọng xe trên quốc lộ.",
        "Chất lượng thi công sửa chữa quốc lộ kém, đường quốc lộ mới làm đã hỏng.",
    ],
}

OPENINGS = ["Kính thưa Đoàn Chủ tịch, kính thưa Đại hội.", "Kính thưa các vị đại biểu."]
CLOSINGS = ["Xin trân trọng cảm ơn.", "Tôi xin hết ý kiến."]
DELEGATIONS = ["Đoàn Hà Nội", "Đoàn Nghệ An", "Đoàn Cà Mau", "Đoàn Lào Cai"]


def build(seed: int = 7, delegates: int = 24) -> tuple[list[Contribution], dict[str, set[str]]]:
    """Contributions and, per topic, the delegates who raised it."""
    rng = random.Random(seed)
    raised: dict[str, set[str]] = {t: set() for t in TOPICS}
    out = []
    for n in range(delegates):
        delegate = f"DB{n + 1:03d}"
        topics = rng.sample(sorted(TOPICS), k=rng.randint(1, 3))
        parts = [rng.choice(OPENINGS)]
        for t in topics:
            parts += rng.sample(TOPICS[t], k=rng.randint(1, 2))
            raised[t].add(delegate)
        parts.append(rng.choice(CLOSINGS))
        kind = SourceKind.TRANSCRIPT if n % 4 == 0 else SourceKind.WRITTEN
        out.append(
            Contribution(delegate, DELEGATIONS[n % len(DELEGATIONS)], kind, f"c{n + 1}", " ".join(parts))
        )
    return out, raised
