"""Badge tokens and the sealed gallery format (shared with the controller)."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from congress import badge_token, gallery_crypto, gallery_keys
from congress.errors import ProtocolError


def test_badge_round_trip_and_refusals():
    key = Ed25519PrivateKey.generate()
    tok = badge_token.issue(key, "v1", "D-0042", badge_no=2)
    assert tok.startswith("DC1.") and len(tok) < 200
    c = badge_token.verify(tok, key.public_key(), "v1")
    assert (c.delegate_id, c.badge_no) == ("D-0042", 2)
    with pytest.raises(ProtocolError) as e:
        badge_token.verify(tok, key.public_key(), "v2")
    assert e.value.reason == badge_token.BadgeReason.VENUE
    with pytest.raises(ProtocolError) as e:
        badge_token.verify(tok, Ed25519PrivateKey.generate().public_key(), "v1")
    assert e.value.reason == badge_token.BadgeReason.SIGNATURE
    forged = badge_token.issue(key, "v1", "D-0043").split(".")
    with pytest.raises(ProtocolError) as e:
        badge_token.verify(".".join([forged[0], forged[1], tok.split(".")[2]]), key.public_key(), "v1")
    assert e.value.reason == badge_token.BadgeReason.SIGNATURE
    for junk in ["", "hello", "DC1.!!.??", "DC1." + "A" * 500]:
        with pytest.raises(ProtocolError) as e:
            badge_token.verify(junk, key.public_key(), "v1")
        assert e.value.reason == badge_token.BadgeReason.MALFORMED


def test_gallery_parts_open_only_for_their_unit_version_and_position():
    k1, pub1 = gallery_keys.new_pair()
    k2, _ = gallery_keys.new_pair()
    assert gallery_keys.public_of(k1) == pub1 and k1 != k2
    emb = np.random.default_rng(0).standard_normal((3, 128)).astype(np.float32)
    plain = [gallery_crypto.encode(["a", "a"], emb[:2]), gallery_crypto.encode(["b"], emb[2:])]
    blobs = gallery_crypto.seal_parts(pub1, "v", "door-1", 7, plain)
    assert [gallery_crypto.header(b) for b in blobs] == [(7, 0, 2), (7, 1, 2)]
    assert emb.astype("<f4").tobytes()[:16] not in b"".join(blobs)  # no row in the clear
    g = gallery_crypto.open_gallery(k1, "v", "door-1", blobs)
    assert g.version == 7 and g.ids == ("a", "a", "b")
    np.testing.assert_array_equal(g.embeddings, emb)
    with pytest.raises(ProtocolError) as e:
        gallery_crypto.open_gallery(k2, "v", "door-1", blobs)  # another unit's key
    assert e.value.reason == "gallery_key"
    with pytest.raises(ProtocolError) as e:
        gallery_crypto.open_gallery(k1, "v", "door-2", blobs)  # addressed to another unit id
    assert e.value.reason == "gallery_key"
    relabelled = blobs[0][:3] + (8).to_bytes(8, "big") + blobs[0][11:]  # another version
    swapped = blobs[1][:11] + (0).to_bytes(4, "big") + blobs[1][15:]  # another position
    flipped = blobs[1][:-1] + bytes([blobs[1][-1] ^ 1])  # one bit of ciphertext/tag
    for bad in (relabelled, swapped, flipped):
        with pytest.raises(ProtocolError) as e:
            gallery_crypto.open_part(k1, "v", "door-1", bad)
        assert e.value.reason == "gallery_key"
    with pytest.raises(ProtocolError):
        gallery_crypto.open_gallery(k1, "v", "door-1", blobs[::-1])  # parts out of order
    assert gallery_crypto.unpack(gallery_crypto.pack(blobs)) == blobs
    with pytest.raises(ProtocolError):
        gallery_crypto.unpack(gallery_crypto.pack(blobs)[:-5] + b"\0")


def test_issue_unit_writes_the_gallery_key_pair(tmp_path, capsys):
    """``congress ca issue-unit`` gives every unit its own X25519 gallery pair: private 0600, public 0644."""
    import json
    import stat

    from congress import pki
    from congress.cli import main

    ca = tmp_path / "ca"
    pki.init_ca(ca, "v")
    assert main(["ca", "issue-unit", "door-1", "--dir", str(ca), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    key, pub = tmp_path / out["gallery_key"], tmp_path / out["gallery_pub"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE(pub.stat().st_mode) == 0o644
    priv = gallery_keys.parse_key(key.read_text(), "key")
    assert gallery_keys.public_of(priv) == gallery_keys.read_public(pub)
    again = pki.issue_unit(ca, "door-2")
    assert again.gallery_key.read_text() != key.read_text()  # one pair per unit
