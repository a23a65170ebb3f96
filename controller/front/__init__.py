"""The tablet front: the delegates' port, served by an event loop inside the controller process.

The controller page (cheroot) gives every request or live stream a thread; 2,000 tablets opening
their documents or following the live feed at once would need 2,000 threads. The front is an aiohttp
server on ``[portal] port`` in its own thread and event loop (:class:`controller.front.server.
TabletFront`, started and stopped by :class:`controller.server.ControllerServer`), so a connection
costs memory, not a thread:

* ``GET /d/<ref>/file`` and ``/d/<ref>/v/<n>/file`` (:mod:`controller.front.files`): the reader and
  their copy are worked out in a small thread pool by the same code as the Flask view
  (:class:`controller.documents.delegate_access.DelegateAccess`, :meth:`controller.documents.
  library.Library.copy`: access check, watermark made once, open row and audit row); the loop then
  sends the shared base with non-blocking ``sendfile`` and the delegate's tail, with ranges, the
  ETag and the headers of :func:`controller.documents.serving.copy_plan`;
* ``GET /p/events`` (:mod:`controller.front.events`): the delegates' live feed, one subscription to
  the controller's :class:`controller.live.LiveBus` fanned out to any number of clients, each event
  filtered for its audience (:mod:`controller.front.audience`);
* every other path under ``/p/``, ``/d``, ``/q/``, ``/static/`` and ``/fonts/`` goes to the Flask
  app through a bounded thread pool (:mod:`controller.front.wsgi_bridge`); anything else is 404, so
  no staff route is reachable on the delegates' port.

Connections are held to deadlines (:mod:`controller.front.listener`): a TLS handshake within
``[portal] handshake_s``, a complete request within ``header_s`` of connecting or of the previous
answer, at most ``per_address`` connections per client address.
"""
