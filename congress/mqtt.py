"""Thin paho-mqtt 2.x helpers: a TLS client with the venue CA and a client certificate, and a connect
that waits and explains a refusal in words a technician understands.

    client = make_client(client_id="door-1", ca_file=..., cert_file=..., key_file=..., will=(topic, payload))
    connect(client, "broker.local", 8883)      # raises BrokerError("... revoked ...") etc.

MQTT 5 is used, so a publish the ACL refuses comes back as PUBACK reason "Not authorized" instead of
being dropped silently. ``connect`` starts paho's network thread (``loop_start``); paho reconnects by
itself afterwards, so subscribe in ``on_connect``. No work inside callbacks: hand messages to a queue.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from congress.errors import BrokerError

#: Session expiry for durable sessions: the broker keeps queued QoS 1 messages this long (1 week).
DURABLE_SESSION_S = 7 * 24 * 3600

_ALERTS = {
    "certificate revoked": "the broker refused this device's certificate: it has been REVOKED "
    "(issue a new one with `congress ca issue-unit UNIT --reissue` if the device is trusted again)",
    "certificate expired": "the broker refused this device's certificate: it has EXPIRED "
    "(issue a new one with `congress ca issue-unit UNIT --reissue`)",
    "unknown ca": "the broker does not trust this device's certificate: it was issued by another CA "
    "(another venue?); issue one from this venue's CA",
    "certificate required": "the broker requires a client certificate and this device sent none "
    "(set broker.cert_file and broker.key_file)",
    "bad certificate": "the broker rejected this device's certificate as invalid (wrong key, or "
    "damaged file); issue it again",
    "unsupported certificate": "the broker rejected this device's certificate (not a client "
    "certificate?); issue it with `congress ca issue-unit` or `congress ca issue-client`",
}


def tls_context(
    ca_file: str | Path, cert_file: str | Path | None, key_file: str | Path | None
) -> ssl.SSLContext:
    """TLS 1.2+ context that trusts only the venue CA and presents the client certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_verify_locations(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise BrokerError(f"cannot read the venue CA certificate {ca_file}: {exc}",
                          hint="copy ca.pem from the venue CA directory and set broker.ca_file") from None
    if cert_file is not None:
        try:
            ctx.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise BrokerError(f"cannot load the client certificate {cert_file} / key {key_file}: {exc}",
                              hint="check the paths, that the key belongs to the certificate, and file "
                              "permissions") from None
    return ctx


def make_client(
    *,
    client_id: str,
    ca_file: str | Path,
    cert_file: str | Path | None,
    key_file: str | Path | None,
    will: tuple[str, bytes] | None = None,
    will_factory: Callable[[], tuple[str, bytes]] | None = None,
    will_retain: bool = True,
    userdata=None,
) -> mqtt.Client:
    """A paho client (callback API 2, MQTT 5) with TLS to the venue broker and an optional last will.

    ``will`` is fixed; ``will_factory`` is called before every (re)connection, so a signed will can
    carry a fresh sequence number each time (the same signed will delivered twice is a replay).
    """
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5, userdata=userdata)
    client.tls_set_context(tls_context(ca_file, cert_file, key_file))
    if will is not None and will_factory is not None:
        raise ValueError("give will or will_factory, not both")
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=will_retain)
    if will_factory is not None:
        def fresh_will(c: mqtt.Client, _userdata) -> None:
            topic, payload = will_factory()
            c.will_set(topic, payload, qos=1, retain=will_retain)

        client.on_pre_connect = fresh_will
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    return client


def make_client_from_config(broker, client_id: str, **kwargs) -> mqtt.Client:
    """``make_client`` from a :class:`congress.config.common.BrokerSection`."""
    return make_client(client_id=client_id, ca_file=broker.ca_file, cert_file=broker.cert_file,
                       key_file=broker.key_file, **kwargs)


def connect(
    client: mqtt.Client,
    host: str,
    port: int,
    *,
    keepalive: int = 15,
    timeout: float = 10.0,
    durable: bool = False,
) -> None:
    """Connect, start the network thread and wait for the broker's CONNACK.

    ``durable``: keep the session (subscriptions and queued QoS 1 messages) on the broker while this
    client is away, so nothing published to it meanwhile is lost. On failure the network thread is
    stopped and :class:`BrokerError` says why (refused, revoked, wrong CA, unreachable...).
    """
    done = threading.Event()
    outcome: dict = {}
    prev_connect, prev_disconnect = client.on_connect, client.on_disconnect

    def on_connect(c, userdata, flags, reason_code, properties):
        outcome.setdefault("connack", reason_code)
        done.set()
        if prev_connect is not None:
            prev_connect(c, userdata, flags, reason_code, properties)

    def on_disconnect(c, userdata, flags, reason_code, properties):
        outcome.setdefault("disconnect", reason_code)
        done.set()
        if prev_disconnect is not None:
            prev_disconnect(c, userdata, flags, reason_code, properties)

    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = DURABLE_SESSION_S if durable else 0
    try:
        try:
            try:
                client.connect(host, port, keepalive, clean_start=not durable, properties=props)
            except (OSError, ssl.SSLError) as exc:
                _close_sockets_of(exc)
                raise
        except ssl.SSLCertVerificationError as exc:
            why = str(exc.verify_message)
            hint = ("this device's clock is probably wrong: check `timedatectl` (a Pi has no real-time "
                    "clock and needs NTP)" if "not yet valid" in why or "expired" in why else
                    "its certificate must be issued by this venue's CA for this host name "
                    "(`congress ca issue-broker HOST`); broker.ca_file must be that CA")
            raise BrokerError(f"the broker at {host}:{port} is not trusted: {why}", hint=hint) from None
        except (OSError, ssl.SSLError) as exc:
            raise BrokerError(_explain_socket_error(exc, host, port)) from None
        client.loop_start()
        if not done.wait(timeout):
            client.loop_stop()
            raise BrokerError(f"the broker at {host}:{port} did not answer within {timeout:.0f} s",
                              hint="check the network and that the broker is running")
        rc = outcome.get("connack")
        if rc is not None and not rc.is_failure:
            return
        client.loop_stop()
        if rc is not None:
            raise BrokerError(f"the broker at {host}:{port} refused the connection: {rc}",
                              hint="the certificate name is not allowed by the broker (ACL, user name)")
        raise BrokerError(_diagnose(client, host, port))
    finally:
        client.on_connect, client.on_disconnect = prev_connect, prev_disconnect


def connect_in_background(client: mqtt.Client, host: str, port: int, *, keepalive: int = 15,
                          durable: bool = False) -> None:
    """Start the network thread and let it connect when it can, retrying (``reconnect_delay_set``)
    until the broker answers; for a program that must run on while the broker is away. Connection
    results arrive in ``on_connect`` / ``on_connect_fail``; nothing here raises for an absent broker."""
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = DURABLE_SESSION_S if durable else 0
    client.connect_async(host, port, keepalive, clean_start=not durable, properties=props)
    client.loop_start()


def _close_sockets_of(exc: BaseException) -> None:
    """paho 2.x leaves its socket open when the TLS handshake fails; close what the failed frames hold."""
    tb = exc.__traceback__
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, socket.socket):
                value.close()
        tb = tb.tb_next


def _explain_socket_error(exc: BaseException, host: str, port: int) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return (f"nothing accepts connections at {host}:{port}: is the broker running and is the port "
                "right? (on the controller: systemctl status mosquitto)")
    if isinstance(exc, socket.gaierror):
        return f"the broker host name {host!r} cannot be resolved: check broker.host and DNS"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer from {host}:{port}: check the network cable, Wi-Fi and firewall"
    text = str(exc).lower()
    for alert, words in _ALERTS.items():
        if alert in text:
            return words
    if "wrong version number" in text or "packet length too long" in text or "record layer" in text:
        return (f"the service at {host}:{port} does not speak TLS: is this the broker's MQTT-over-TLS "
                "port (8883 at a venue)? check broker.port")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ssl.SSLEOFError):
        return (f"{host}:{port} closed the connection during the TLS handshake: the broker refused this "
                "device's certificate, or the port is not the broker's TLS port (see the broker's log)")
    if isinstance(exc, ssl.SSLError):
        return f"the TLS handshake with {host}:{port} failed: {exc.reason or exc}"
    return f"cannot connect to {host}:{port}: {exc}"


def _diagnose(client: mqtt.Client, host: str, port: int, timeout: float = 5.0) -> str:
    """After the broker dropped us during the handshake, redo the TLS handshake by hand to read the
    alert it sends (with TLS 1.3 the client learns of a refused certificate only at the first read)."""
    ctx = client._ssl_context  # the context make_client set; paho keeps it there
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                ctx.wrap_socket(raw, server_hostname=host) as tls:
            tls.settimeout(timeout)
            with contextlib.suppress(TimeoutError):  # timeout: TLS accepted, broker awaits CONNECT
                tls.recv(1)
    except (OSError, ssl.SSLError) as exc:
        return _explain_socket_error(exc, host, port)
    return f"the broker at {host}:{port} closed the connection during the MQTT handshake (see its log)"
