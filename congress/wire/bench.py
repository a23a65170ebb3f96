"""Cost of the wire protocol on this machine: ``python -m congress.wire.bench [--count N]``.

Signs N check-ins, then verifies them the way the controller does (topic, venue, key lookup, replay
guard), next to N bare Ed25519 verifications of the same size, and prints one JSON object:
``encode_per_s``, ``verify_per_s``, ``ed25519_verify_per_s``, ``overhead_us`` (Python work per message
beyond the signature check) and ``bytes`` (size of one check-in).
"""

from __future__ import annotations

import argparse
import json
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import wire


def run(count: int) -> dict:
    key = Ed25519PrivateKey.generate()
    keys = {"door-1": key.public_key()}
    counter = wire.BootCounter()
    msgs = [wire.CheckIn(venue="bench", unit="door-1", boot=counter.boot, seq=counter.next(),
                         delegate_id=f"D-{i:05d}", direction=wire.Direction.IN, method=wire.Method.FACE,
                         door="north-1", score=0.8312, margin=0.1205, liveness=wire.Liveness.PASS,
                         mono_ms=1000 + i, clock_synced=True, wall_time_ms=1_790_000_000_000 + i)
            for i in range(count)]
    t0 = time.perf_counter()
    payloads = [wire.encode(m, key) for m in msgs]
    t1 = time.perf_counter()
    guard = wire.ReplayGuard()
    topic = wire.unit_topic("bench", "door-1", wire.Kind.CHECKIN)
    for p in payloads:
        wire.verify(p, topic=topic, venue="bench", unit_keys=keys, replay=guard)
    t2 = time.perf_counter()
    pub, sig, data = key.public_key(), key.sign(payloads[0]), payloads[0]
    for _ in range(count):
        pub.verify(sig, data)
    t3 = time.perf_counter()
    return {"count": count, "bytes": len(payloads[0]), "encode_per_s": round(count / (t1 - t0)),
            "verify_per_s": round(count / (t2 - t1)), "ed25519_verify_per_s": round(count / (t3 - t2)),
            "overhead_us": round(((t2 - t1) - (t3 - t2)) / count * 1e6, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m congress.wire.bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="check-ins to sign and verify")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.count), sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
