"""Radio keypads behind a USB base station: wire protocol, pairing keys and a simulator.

``framing`` cuts the serial byte stream into CRC-checked frames, ``protocol`` seals and opens keypad
messages with AES-CCM, ``keystore`` keeps the pairing keys, ``simulator`` plays a base station with N
keypads on a pseudo-terminal. The controller's reader lives in ``controller.voting``.
"""
