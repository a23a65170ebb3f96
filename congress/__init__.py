"""Digital Congress: code shared by the door units and the controller.

Holds the wire protocol, event signing, the venue PKI, typed configuration, the face engine and the
``congress`` command line. Neither ``edge`` nor ``controller`` imports the other; both import this.
"""

__version__ = "0.1.0"
