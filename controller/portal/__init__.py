"""The delegates' portal: their own app on tablets and phones (issue 13; guide in docs/portal.md).

Services (no Flask): ``signin`` (badge or code, PIN, sessions, seat-bound tablets, revocation), built
together by :func:`controller.portal.service.build_portal` into ``Services.portal``. The web side is
``controller/web/portal/`` under ``/p/``.
"""
