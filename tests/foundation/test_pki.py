"""Venue CA: layout, key file modes, certificate contents, re-issue rules, revocation and the CLI."""

from __future__ import annotations

import ipaddress
import json
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from congress import pki
from congress.cli import main
from congress.errors import PKIError


@pytest.fixture
def ca_dir(tmp_path):
    d = tmp_path / "ca"
    pki.init_ca(d, "venue-a")
    return d


def mode(p) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def load(p) -> x509.Certificate:
    return x509.load_pem_x509_certificate(p.read_bytes())


def cn(cert: x509.Certificate) -> str:
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_init_writes_ca_crl_and_controller_key_with_private_modes(ca_dir):
    for private in ("ca.key", "controller-signing.key"):
        assert mode(ca_dir / private) == 0o600, private
    assert mode(ca_dir) == 0o700
    ca = load(ca_dir / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
    assert ca.public_key().curve.name == "secp256r1"
    crl = x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())
    assert crl.is_signature_valid(ca.public_key())
    assert len(list(crl)) == 0
    assert pki.venue_of(ca_dir) == "venue-a"
    assert isinstance(pki.load_public_key(ca_dir / "controller-signing.pub"), ed25519.Ed25519PublicKey)


def test_init_refuses_existing_ca_and_bad_venue(ca_dir, tmp_path):
    with pytest.raises(PKIError, match="already exists"):
        pki.init_ca(ca_dir, "venue-a")
    with pytest.raises(PKIError, match="venue id"):
        pki.init_ca(tmp_path / "other", "bad/venue")


def test_unit_certificate_cn_eku_chain_and_signing_key(ca_dir):
    creds = pki.issue_unit(ca_dir, "door-7")
    for private in (creds.key, creds.signing_key):
        assert mode(private) == 0o600
    cert, ca = load(creds.cert), load(ca_dir / "ca.pem")
    assert cn(cert) == "door-7"
    cert.verify_directly_issued_by(ca)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.not_valid_after_utc <= ca.not_valid_after_utc
    key = pki.load_signing_key(creds.signing_key)
    pub = pki.load_public_key(creds.signing_pub)
    pub.verify(key.sign(b"event"), b"event")
    assert creds.ca_cert == ca_dir / "ca.pem"
    assert creds.controller_pub == ca_dir / "controller-signing.pub"


def test_broker_certificate_has_host_and_loopback_names(ca_dir):
    cert_p, key_p = pki.issue_broker(ca_dir, "broker.venue.lan")
    assert mode(key_p) == 0o600
    cert = load(cert_p)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"broker.venue.lan", "localhost"}
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    with pytest.raises(PKIError, match="not a host name"):
        pki.issue_broker(ca_dir, "bad host!")


def test_second_issue_is_refused_until_reissue_which_revokes_the_old(ca_dir):
    first = load(pki.issue_unit(ca_dir, "door-1").cert).serial_number
    with pytest.raises(PKIError, match="already has a valid certificate") as err:
        pki.issue_unit(ca_dir, "door-1")
    assert "--reissue" in str(err.value)
    second = load(pki.issue_unit(ca_dir, "door-1", reissue=True).cert).serial_number
    assert second != first
    revoked = {r.serial_number for r in x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())}
    assert revoked == {first}


def test_units_and_clients_cannot_share_a_name(ca_dir):
    pki.issue_client(ca_dir, "controller")
    with pytest.raises(PKIError, match="already a client"):
        pki.issue_unit(ca_dir, "controller")
    with pytest.raises(PKIError, match="letters, digits"):
        pki.issue_unit(ca_dir, "door/1")
    with pytest.raises(PKIError, match="letters, digits"):
        pki.issue_unit(ca_dir, "+")


def test_revoke_lists_serial_in_signed_crl_and_drops_signing_key(ca_dir):
    serial = load(pki.issue_unit(ca_dir, "door-9").cert).serial_number
    pki.issue_unit(ca_dir, "door-10")
    assert set(pki.unit_signing_keys(ca_dir)) == {"door-9", "door-10"}
    assert pki.revoke(ca_dir, "door-9") == [format(serial, "x")]
    crl = x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())
    assert crl.is_signature_valid(load(ca_dir / "ca.pem").public_key())
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    assert crl.next_update_utc >= load(ca_dir / "ca.pem").not_valid_after_utc.replace(microsecond=0)
    assert set(pki.unit_signing_keys(ca_dir)) == {"door-10"}
    with pytest.raises(PKIError, match="no valid certificate to revoke"):
        pki.revoke(ca_dir, "door-9")
    pki.issue_unit(ca_dir, "door-9")  # after revocation the name may be issued again


def test_missing_ca_says_how_to_create_one(tmp_path):
    with pytest.raises(PKIError, match="no venue CA") as err:
        pki.issue_unit(tmp_path / "nowhere", "door-1")
    assert "congress ca init" in str(err.value)


def test_cli_round_trip_with_json(tmp_path, capsys, monkeypatch):
    d = tmp_path / "cli-ca"
    monkeypatch.setenv("CONGRESS_CA_DIR", str(d))

    def run(*argv) -> dict:
        assert main(["ca", *argv, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    assert run("init", "--venue", "venue-b")["venue"] == "venue-b"
    assert run("issue-broker", "127.0.0.1")["cert"].endswith("broker/127.0.0.1/cert.pem")
    unit = run("issue-unit", "door-3")
    assert mode(d / "units" / "door-3" / "signing.key") == 0o600
    assert cn(load(d / "units" / "door-3" / "cert.pem")) == unit["unit_id"] == "door-3"
    assert run("issue-client", "controller")["name"] == "controller"
    assert run("revoke", "door-3")["serials"]
    listed = run("list")["certs"]
    assert [(c["kind"], c["name"], bool(c["revoked"])) for c in listed] == [
        ("broker", "127.0.0.1", False), ("unit", "door-3", True), ("client", "controller", False)]
    assert main(["ca", "issue-client", "controller"]) == 1
    assert "already has a valid certificate" in capsys.readouterr().err
    assert main(["ca", "list", "--dir", str(tmp_path / "none")]) == 1
    assert "no venue CA" in capsys.readouterr().err


def test_a_copy_without_the_ca_key_still_lists_unit_keys(ca_dir, tmp_path):
    """The controller may hold a copy of the CA directory without ca.key."""
    import shutil

    pki.issue_unit(ca_dir, "door-4")
    copy = tmp_path / "copy"
    shutil.copytree(ca_dir, copy, ignore=shutil.ignore_patterns("ca.key"))
    assert set(pki.unit_signing_keys(copy)) == {"door-4"}
    assert pki.venue_of(copy) == "venue-a"
    with pytest.raises(PKIError, match="no venue CA"):
        pki.issue_unit(copy, "door-5")  # issuing needs the key
    (copy / "index.json").unlink()
    with pytest.raises(PKIError, match=r"index\.json is missing"):
        pki.unit_signing_keys(copy)


def test_concurrent_issuing_loses_no_certificate(ca_dir):
    """Two technicians issuing at once: the CA lock keeps every serial in the index and the CRL."""
    import threading

    names = [f"door-{i}" for i in range(20, 28)]
    errors = []

    def issue(name):
        try:
            pki.issue_unit(ca_dir, name)
            pki.revoke(ca_dir, name)
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=issue, args=(n,), name=f"issue-{n}") for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    index = pki.read_index(ca_dir)
    assert sorted(c["name"] for c in index["certs"]) == sorted(names)
    assert all(c["revoked"] for c in index["certs"])
    crl = x509.load_pem_x509_crl((ca_dir / "crl.pem").read_bytes())
    assert {format(r.serial_number, "x") for r in crl} == {c["serial"] for c in index["certs"]}


def test_site_identity_units_at_a_site_and_one_name_space(ca_dir):
    s = pki.issue_site(ca_dir, "hanoi-1")
    cert = load(s.cert)
    assert cn(cert) == "hanoi-1"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "site"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert mode(s.key) == 0o600 and mode(s.signing_key) == 0o600
    assert isinstance(pki.load_signing_key(s.signing_key), ed25519.Ed25519PrivateKey)
    pki.issue_unit(ca_dir, "door-7", site="hanoi-1")
    pki.issue_unit(ca_dir, "door-8")
    assert pki.sites(ca_dir) == ["hanoi-1"]
    assert pki.unit_sites(ca_dir) == {"door-7": "hanoi-1"}
    with pytest.raises(PKIError, match="issue-site"):
        pki.issue_unit(ca_dir, "door-9", site="nowhere")
    for taken in ("door-8", "hanoi-1"):  # a site may not take a unit's name, nor a unit or client a site's
        with pytest.raises(PKIError, match="name space"):
            (pki.issue_site if taken == "door-8" else pki.issue_client)(ca_dir, taken)
    with pytest.raises(PKIError, match="already has a valid certificate"):
        pki.issue_site(ca_dir, "hanoi-1")
    assert pki.revoke(ca_dir, "hanoi-1", kind="site")
    assert pki.sites(ca_dir) == []
    with pytest.raises(PKIError, match="no certificate"):
        pki.site_credentials(ca_dir, "hue-2")


def test_cli_issue_site_and_unit_at_site(ca_dir, capsys):
    assert main(["ca", "issue-site", "hue-2", "--dir", str(ca_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["site"] == "hue-2" and out["cert"].endswith("sites/hue-2/cert.pem")
    assert main(["ca", "issue-unit", "door-h", "--site", "hue-2", "--dir", str(ca_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["site"] == "hue-2"
    assert main(["ca", "revoke", "hue-2", "--site", "--dir", str(ca_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "site"
