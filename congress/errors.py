"""One exception tree for the whole project.

Every message is written for a technician at the venue: it says what is wrong and, where it can, what
to do about it. The command line prints ``str(exc)`` and exits with ``exit_code``.
"""

from __future__ import annotations


class CongressError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class ConfigError(CongressError):
    """A configuration file or secret is missing, malformed or inconsistent."""

    exit_code = 2


class PKIError(CongressError):
    """The venue CA, a certificate or a key cannot be created, read or used."""


class ProtocolError(CongressError):
    """A message on the wire was rejected. ``reason`` is a short machine-readable code.

    ``signed_event`` is ``(unit, boot, seq)`` when the signature checked out and only the body was
    refused (a field out of range): the sender really sent it, so it may be told to drop it.
    ``text`` is the message for a page: a translatable :class:`congress.i18n.Message` where a person
    sees the refusal (a scanned badge or document code), else the English message itself."""

    def __init__(self, reason: str, message: str, *, hint: str | None = None,
                 signed_event: tuple[str, str, int] | None = None, text: object = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.signed_event = signed_event
        self.text = message if text is None else text


class ModelError(CongressError):
    """A face model file is missing, corrupt or does not match the manifest."""


class ImageError(CongressError):
    """An image cannot be decoded or is not usable for face recognition.

    ``text`` is the message for a page: a translatable :class:`congress.i18n.Message` where the
    refusal concerns a person's file (``decode_image``), else the English message itself.
    """

    def __init__(self, message: str, *, hint: str | None = None, text: object = None) -> None:
        super().__init__(message, hint=hint)
        self.text = message if text is None else text


class DeviceError(CongressError):
    """A piece of hardware (camera, GPIO, serial base station) failed or is not configured."""


class BrokerError(CongressError):
    """The MQTT broker cannot be started, reached, or refused this client (certificate, ACL)."""


class FlashError(CongressError):
    """An SD-card image or boot partition cannot be read, written or verified by ``congress flash``."""
