"""A sentence that opens with "He"/"She" is read with the person it stands for (rag.evidence.resolve_pronoun)."""

from __future__ import annotations

import pytest

from rag.evidence import resolve_pronoun

NEW_CHIEF = (
    "The Glenmoor Housing Trust has appointed Beatrice Onyango as chief executive. "
    "Onyango, who currently runs a housing association in Calder, will start in January. "
)


@pytest.mark.parametrize(
    ("before", "text", "want"),
    [
        (NEW_CHIEF, "She replaces an interim leadership team.", "She [Beatrice Onyango] replaces"),
        # the subject of the sentence before, not the last name in it
        ("Judge Harold Fenwick said Delane would be sentenced in December. ", "He warned that a prison sentence was likely.",
         "He [Harold Fenwick] warned"),
        # a name in an opening phrase is not the subject
        ("Under cross-examination by defence lawyer Simon Okafor, Janet Liu agreed the payments were signed off. ",
         "She rejected his suggestion.", "She [Janet Liu] rejected"),
        ("Chief financial officer Peter Lund said 40% of owners chose a refund. ", "He added that sales would resume.",
         "He [Peter Lund] added"),
        # a heading's capitalised word is not part of the name: "start" is also written in lower case
        ("Start: TE Jake Ferguson has slumped. Ferguson should start. ", "He should be more active.", "He [Jake Ferguson] should"),
    ],
)  # fmt: skip
def test_a_leading_pronoun_is_read_with_the_subject_of_the_sentence_before(before: str, text: str, want: str) -> None:
    assert resolve_pronoun(text, before).startswith(want)


@pytest.mark.parametrize(
    ("before", "text"),
    [
        ("The summer signing from Port Elling needed just 11 minutes to score. ", "He added a second from the spot."),  # a place
        ("His lawyer said the trust had approved the payments. ", "He told the jury so."),  # nobody named
        ("Fields' counterpart, Joe Flacco, could only watch. ", "He had just driven the Browns to the score."),  # possessive
        ("Martin Scorsese and Francesca Scorsese met. Scorsese laughed. ", "He is now 80 years old."),  # which Scorsese?
        ("", "She said the fine was fair."),
        (NEW_CHIEF, "They said the fine was fair."),  # only he / she
    ],
)  # fmt: skip
def test_a_pronoun_without_a_clear_subject_before_it_is_left_alone(before: str, text: str) -> None:
    assert resolve_pronoun(text, before) == text
