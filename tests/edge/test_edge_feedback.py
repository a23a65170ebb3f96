"""Lights and buzzer patterns on gpiozero mock pins: pin histories are asserted, blinks stop on close."""

from __future__ import annotations

import time

import pytest
from gpiozero.pins.mock import MockFactory

from congress.config.edge import FeedbackSection
from edge.feedback import Feedback, Indication


@pytest.fixture
def fb():
    factory = MockFactory()
    f = Feedback(FeedbackSection(relay_pin=24), pin_factory=factory, show_s=0.05)
    yield f, factory
    f.close()
    factory.close()


def states(factory, n):
    return [s.state for s in factory.pin(n).states]


def wait_for(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.01)
    return False


def test_accepted_is_green_one_beep_and_relay(fb):
    f, factory = fb
    f.accepted()
    assert wait_for(lambda: len(states(factory, 23)) >= 3 and len(states(factory, 24)) >= 3)
    assert wait_for(lambda: len(states(factory, 17)) >= 3)
    factory.pin(17).assert_states([False, True, False])
    assert states(factory, 23) == [False, True, False]
    assert states(factory, 24) == [False, True, False]
    assert states(factory, 27) == [False]  # red never lit
    assert f.state is Indication.ACCEPTED


def test_rejected_is_red_and_two_beeps(fb):
    f, factory = fb
    f.rejected()
    assert wait_for(lambda: len(states(factory, 23)) >= 5 and len(states(factory, 27)) >= 3)
    assert states(factory, 23) == [False, True, False, True, False]
    assert states(factory, 27) == [False, True, False]
    assert states(factory, 17) == [False]
    assert states(factory, 24) == [False]  # no turnstile for a rejection


def test_attendant_amber_steady(fb):
    f, factory = fb
    f.attendant(True)
    assert factory.pin(22).state is True
    f.attendant(False)
    assert states(factory, 22) == [False, True, False]


def test_alarm_red_steady_repeating_beep_and_rejections_keep_it(fb):
    f, factory = fb
    f.alarm(True)
    assert factory.pin(27).state is True
    f.rejected()
    assert wait_for(lambda: len(states(factory, 23)) >= 4, timeout=5)
    assert factory.pin(27).state is True
    assert states(factory, 27) == [False, True]
    f.alarm(False)
    assert factory.pin(27).state is False
    assert factory.pin(23).state is False


def test_close_stops_a_blink_at_once():
    factory = MockFactory()
    f = Feedback(FeedbackSection(), pin_factory=factory, show_s=60)
    f.alarm(True)
    f.accepted()
    t0 = time.monotonic()
    f.close()
    assert time.monotonic() - t0 < 20.0  # a 60 s pattern did not hold close() up
    factory.close()
