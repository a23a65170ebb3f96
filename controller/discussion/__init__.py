"""What was said on each agenda item, and its synthesis (issue 17): inputs, runs, drafts, approval.

:mod:`.service` keeps the inputs the secretariat enters (written contributions and speech transcripts
as text, PDF, SRT or WebVTT), starts synthesis runs over them, keeps the draft's versions and turns
the approved version into a document of the agenda item. :mod:`.runner` is the background worker that
carries runs through the engine of :mod:`controller.synthesis` with checkpoints, so a run goes on
after a restart, and can be cancelled. The engine is an optional extra: without it, inputs can still
be entered and every run fails at once with a message saying which package is missing.
"""
