"""Lights, buzzer and optional turnstile relay on GPIO (gpiozero), driven by what the door decided.

Patterns (``show_s`` is how long a verdict stays visible):

* accepted: green for ``show_s`` and one short beep; the relay, if wired, closes for ``relay_open_s``;
* rejected or unknown: red for ``show_s`` and two short beeps;
* attendant pending: amber steady until :meth:`Feedback.attendant` is called with False;
* alarm (outbox full): red steady and a repeating beep until :meth:`Feedback.alarm` is called with False.

Every device takes the ``pin_factory`` passed in (tests and the demo pass gpiozero's ``MockFactory``;
the real unit passes the factory its configuration names). gpiozero's blink threads wait on an Event,
so :meth:`close` stops every pattern at once.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum

from congress.config.edge import FeedbackSection
from congress.errors import DeviceError

log = logging.getLogger(__name__)

BEEP_S = 0.08
ALARM_ON_S, ALARM_OFF_S = 0.25, 0.75


class Indication(StrEnum):
    """What the door last showed; reported in the heartbeat and by selftest."""

    IDLE = "idle"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ATTENDANT = "attendant"
    ALARM = "alarm"


def make_pin_factory(name: str | None):
    """The gpiozero pin factory ``[feedback] pin_factory`` names (None: gpiozero's default choice)."""
    if name is None:
        return None
    try:
        if name == "mock":
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
        if name == "lgpio":
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        if name == "rpigpio":
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    except Exception as exc:  # gpiozero raises ImportError, RuntimeError or its own BadPinFactory
        raise DeviceError(
            f"GPIO pin factory {name!r} cannot be used: {exc}",
            hint="on a Pi 5 use 'lgpio' (apt install python3-lgpio); off a Pi use 'mock'",
        ) from None


class Feedback:
    """The door's lights, buzzer and relay. Thread-safe; every call returns at once."""

    def __init__(self, settings: FeedbackSection, pin_factory=None, *, show_s: float = 1.0) -> None:
        from gpiozero import LED, Buzzer, DigitalOutputDevice
        from gpiozero.exc import GPIOZeroError

        self.show_s = show_s
        self.relay_open_s = settings.relay_open_s
        self.state = Indication.IDLE
        self._lock = threading.Lock()
        self._alarm = False
        self._attendant = False
        try:
            self.green = LED(settings.green_pin, pin_factory=pin_factory)
            self.red = LED(settings.red_pin, pin_factory=pin_factory)
            self.amber = LED(settings.amber_pin, pin_factory=pin_factory)
            self.buzzer = Buzzer(settings.buzzer_pin, pin_factory=pin_factory)
            self.relay = (
                DigitalOutputDevice(settings.relay_pin, pin_factory=pin_factory)
                if settings.relay_pin is not None
                else None
            )
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            raise DeviceError(
                f"GPIO pins cannot be claimed: {exc}",
                hint="check [feedback] pins and that the user is in the gpio group",
            ) from None

    @property
    def devices(self) -> dict:
        d = {"green": self.green, "red": self.red, "amber": self.amber, "buzzer": self.buzzer}
        if self.relay is not None:
            d["relay"] = self.relay
        return d

    def accepted(self) -> None:
        """Green light, one beep, and the turnstile relay."""
        with self._lock:
            self.state = Indication.ACCEPTED
            self.green.blink(on_time=self.show_s, off_time=0, n=1)
            if not self._alarm:
                self.buzzer.beep(on_time=BEEP_S, off_time=BEEP_S, n=1)
            if self.relay is not None:
                self.relay.blink(on_time=self.relay_open_s, off_time=0, n=1)

    def rejected(self) -> None:
        """Red light and two beeps (under an alarm the red light and alarm beep simply continue)."""
        with self._lock:
            self.state = Indication.ALARM if self._alarm else Indication.REJECTED
            if self._alarm:
                return
            self.red.blink(on_time=self.show_s, off_time=0, n=1)
            self.buzzer.beep(on_time=BEEP_S, off_time=BEEP_S, n=2)

    def attendant(self, pending: bool) -> None:
        """Amber steady while a staff member is asked to confirm a low-confidence case."""
        with self._lock:
            self._attendant = pending
            if pending:
                self.state = Indication.ATTENDANT
                self.amber.on()
            else:
                self.amber.off()

    def identify(self) -> None:
        """Blink amber three times so a technician can tell which door unit this is."""
        with self._lock:
            if not self._attendant:
                self.amber.blink(on_time=0.3, off_time=0.3, n=3)

    def alarm(self, on: bool) -> None:
        """Outbox full (or another fault that stops check-ins): red steady and a repeating beep."""
        with self._lock:
            if on == self._alarm:
                return
            self._alarm = on
            if on:
                log.warning("alarm raised: check-ins are refused")
                self.state = Indication.ALARM
                self.red.on()
                self.buzzer.beep(on_time=ALARM_ON_S, off_time=ALARM_OFF_S, n=None)
            else:
                log.info("alarm cleared")
                self.state = Indication.IDLE
                self.red.off()
                self.buzzer.off()

    @property
    def alarm_on(self) -> bool:
        return self._alarm

    def close(self) -> None:
        """Stop every pattern, switch everything off and release the pins."""
        with self._lock:
            for dev in self.devices.values():
                dev.close()
