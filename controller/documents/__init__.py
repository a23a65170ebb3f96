"""Congress documents: upload checks, per-delegate watermarked copies, signed QR codes and QR sheets.

``pdfcheck`` accepts or refuses an upload; ``watermark`` prepares a version's shared base and makes a
delegate's incremental tail (band + ``mark``'s dot code); ``copies`` keeps both on disk; ``qr_sheet``
prints the signed codes of :mod:`congress.document_token`; ``survival`` measures what of the mark
survives printing and photographing. See ``docs/documents.md``.
"""
