"""The majority rule of a ballot as people read it: what it takes to pass or to be elected.

:func:`describe` turns a counted result (``Result.as_dict()``, as stored in ``ballots.result``) into a
:class:`congress.i18n.Message` the page, the projector and the minutes translate (``{{ text|t }}``);
:func:`describe_draft` says the same of a ballot before it opens, when the base is not known yet. The
wording follows what the rule means ("more yes than no"), never the arithmetic alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from congress.i18n import M_, N_, Message

#: The base as a noun phrase, for "more than half of <base>".
BASE_PHRASE = {
    "cast": N_("the yes and no votes"),
    "collected": N_("the ballots collected (valid and invalid)"),
    "valid": N_("the valid ballots"),
    "present": N_("the delegates present at the opening"),
    "summoned": N_("the delegates summoned"),
}
#: "cast" is what each kind counts as votes cast.
CAST_PHRASE = {
    "motion": N_("the yes and no votes"),
    "election": N_("the valid ballots that are not blank"),
    "choice": N_("the votes for the options"),
}


def base_phrase(kind: str, base: str) -> str:
    return CAST_PHRASE.get(kind, BASE_PHRASE["cast"]) if base == "cast" else BASE_PHRASE.get(base, base)


def share_phrase(rule: str, num: int | None = None, den: int | None = None) -> Message:
    """"more than half", "at least two thirds", "more than 3/5"."""
    if rule == "absolute":
        return M_("more than half")
    if rule == "two_thirds":
        return M_("at least two thirds")
    return M_("more than %(num)s/%(den)s", num=num or 1, den=den or 2)


def describe(result: Mapping[str, Any]) -> Message:
    """What the rule asked of this result, with its figures."""
    kind, rule = result.get("kind"), result.get("rule")
    if rule == "simple":
        if kind == "motion":
            counts = result.get("counts", {})
            return M_("adopted when there are more yes than no votes (abstentions do not count): "
                      "%(yes)s yes, %(no)s no", yes=counts.get("Yes", 0), no=counts.get("No", 0))
        if kind == "choice":
            return M_("the option with the most votes is adopted, if no other has as many")
        return M_("the candidates with the most votes are elected (at least one vote each)")
    share = share_phrase(rule, result.get("share_num"), result.get("share_den"))
    base = base_phrase(kind, result.get("base", ""))
    if kind == "choice":
        return M_("the option with the most votes is adopted with %(share)s of %(base)s (%(value)s): "
                  "at least %(required)s votes", share=share, base=M_(base), value=result.get("base_value"),
                  required=result.get("required"))
    if kind == "motion":
        return M_("adopted when yes votes are %(share)s of %(base)s (%(value)s): at least %(required)s yes",
                  share=share, base=M_(base), value=result.get("base_value"), required=result.get("required"))
    return M_("elected with %(share)s of %(base)s (%(value)s): at least %(required)s votes, then by rank",
              share=share, base=M_(base), value=result.get("base_value"), required=result.get("required"))


def describe_draft(kind: str, rule: str, base: str, num: int | None = None,
                   den: int | None = None) -> Message:
    """The rule of a ballot that has not been counted yet (the base's figure is not known)."""
    if rule == "simple":
        if kind == "motion":
            return M_("adopted when there are more yes than no votes (abstentions do not count)")
        if kind == "choice":
            return M_("the option with the most votes is adopted, if no other has as many")
        return M_("the candidates with the most votes are elected (at least one vote each)")
    share = share_phrase(rule, num, den)
    phrase = M_(base_phrase(kind, base))
    if kind == "choice":
        return M_("the option with the most votes is adopted with %(share)s of %(base)s", share=share,
                  base=phrase)
    if kind == "motion":
        return M_("adopted when yes votes are %(share)s of %(base)s", share=share, base=phrase)
    return M_("elected with %(share)s of %(base)s, then by rank", share=share, base=phrase)
