"""``congress bench badges --delegates N``: the badge sheet PDF for N delegates, timed.

Real tokens (Ed25519, a throwaway key), Vietnamese names of three or four syllables with every tone
mark, one guest with a Chinese name (the fallback font), a third of the delegates badge-only; the
sheet is :func:`controller.delegates.badges.sheet_pdf`, as the page and the command make it. Reports
wall and CPU seconds (the machine is shared: CPU time is the steadier figure), the PDF's size and pages,
and the peak RSS.
"""

from __future__ import annotations

import random
import resource
import time

VIETNAMESE = (
    ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"),
    ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Xuân", "Thu"),
    ("An", "Bình", "Cường", "Dũng", "Hùng", "Hương", "Lan", "Long", "Mai", "Nam", "Phương", "Quỳnh", "Sơn",
     "Thảo", "Tuấn", "Việt", "Yến", "Ẩn", "Ổn", "Ửng"),
)
DELEGATIONS = ("Đoàn đại biểu tỉnh Hà Giang", "Đoàn đại biểu tỉnh Quảng Ngãi", "Đoàn đại biểu Thừa Thiên Huế",
               "Đoàn đại biểu Bà Rịa – Vũng Tàu", "Đoàn đại biểu tỉnh Đắk Lắk")


def run_bench(delegates: int = 5000, *, seed: int = 1) -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from congress import badge_token
    from controller.delegates.badges import COLS, ROWS, Badge, sheet_pdf

    rng = random.Random(seed)
    key = Ed25519PrivateKey.generate()
    family, middle, given = VIETNAMESE
    items = []
    for i in range(delegates):
        did = f"D{i:05d}"
        name = f"{rng.choice(family)} {rng.choice(middle)} {rng.choice(middle)} {rng.choice(given)}"
        if i == 5:
            name = "王小明 (Wáng Xiǎomíng)"
        items.append(Badge(did, name, rng.choice(DELEGATIONS), str(i + 1), i % 3 != 0,
                           badge_token.issue(key, "bench", did)))
    cpu, wall = time.process_time(), time.perf_counter()
    pdf = sheet_pdf(items, venue_name="Đại hội đại biểu lần thứ XIV", gettext=lambda s: s)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "delegates": delegates,
        "pages": -(-delegates // (COLS * ROWS)),
        "seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "bytes": len(pdf),
        "mb": round(len(pdf) / 1e6, 2),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
