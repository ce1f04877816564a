"""The question-form classifier on varied, natural phrasings (not any data set's templates)."""

from __future__ import annotations

import pytest

from rag.forms import asks_for, classify, sides


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        # facts
        ("Who replaced Marcus Delane at Glenmoor Housing Trust?", "fact"),
        ("how many bikes were recalled", "fact"),
        ("When did the Northfield transit strike begin?", "fact"),
        ("Which supplier made the faulty cells?", "fact"),
        ("What year did the company list its shares?", "fact"),
        ("where was the match played?", "fact"),
        ("In which year did Sam Bankman-Fried co-found FTX?", "fact"),
        ("Do you know who replaced Delane?", "fact"),
        ("Can you tell me how much the fine was?", "fact"),
        ("What does the Arro 2 cost now?", "fact"),
        # yes/no
        ("Is Mateo Ferrand injured?", "yesno"),
        ("Did anyone get hurt?", "yesno"),
        ("has the strike ended", "yesno"),
        ("Was the appeal rejected?", "yesno"),
        ("After the verdict, was Delane sent to prison?", "yesno"),
        ("Is it true that the union accepted the deal?", "yesno"),
        ("Could you tell me whether the bike is back on sale?", "yesno"),
        # explanations
        ("Why was the Arro 2 recalled?", "explanation"),
        ("Could you explain why shares fell?", "explanation"),
        ("What caused the fire?", "explanation"),
        ("what led to the strike", "explanation"),
        ("How come the fine was so large?", "explanation"),
        ("What was the reason for the appeal?", "explanation"),
        ("How does the new contract work?", "explanation"),
        # events
        ("What happened in the Delane trial?", "event"),
        ("What did the US warn North Korea about?", "event"),
        ("What was the verdict?", "event"),
        ("What was the tribunal's decision?", "event"),
        ("How did Kestrel respond to the recall?", "event"),
        ("how did rovers get on this week?", "event"),  # a result, not a method
        ("How have the Rovers done this season?", "timeline"),  # their course through it, not one game
        ("How has Tesla performed so far?", "timeline"),
        ("How did the Rovers do on Saturday?", "event"),
        ("How did Nike do in the quarter?", "event"),
        ("How did he do it?", "explanation"),
        ("What are the terms of the new transit contract?", "event"),
        ("Describe what took place at the hearing", "event"),
        # summaries and timelines
        ("Can you summarize the Quillon data leak story?", "summary"),
        ("Summarize the FTX coverage", "summary"),
        ("give me an overview of the recall", "summary"),
        ("Tell me about the Rovers season", "summary"),
        ("What's the story with the transit strike?", "summary"),
        ("How did the strike develop?", "timeline"),
        ("What has changed since the verdict?", "timeline"),
        ("Give me a timeline of the Quillon case", "timeline"),
        ("how has the league table changed over time", "timeline"),
        ("What happened with the union between the vote and the deal?", "timeline"),
        ("what has happened to Delane since the verdict", "timeline"),
        ("How did the Rovers' season go from the opening day to December?", "timeline"),
        ("how have Kestrel's sales fared over the year", "timeline"),
        # comparisons, lists, latest
        ("Compare how The Ledger and Harbor Daily covered the fine", "comparison"),
        ("What is the difference between the Arro and the Arro 2?", "comparison"),
        ("How did the two outlets differ on the cause?", "comparison"),
        ("List the companies fined by the privacy board", "list"),
        ("Which companies were fined?", "list"),
        ("what are some of the measures Quillon promised", "list"),
        ("Which two firms did the board fine?", "list"),
        ("What versions of the bike are there?", "list"),
        ("what kinds of data were exposed", "list"),
        ("What new rules has the trust brought in?", "list"),  # "new" here is not a request for news
        ("What's new with Kestrel?", "latest"),
        ("what happened to the housing charity boss?", "latest"),  # what became of him: the newest news first
        ("What has become of the Arro 2?", "latest"),
        ("what is new in the appeal", "latest"),
        ("What's the latest on the transit strike?", "latest"),
        ("any news on Kestrel?", "latest"),
        ("What is the most recent update on the appeal?", "latest"),
        # anything else: a plain answer
        ("What is the Arro 2?", "open"),
        ("What weapons is North Korea supplying?", "open"),
    ],
)
def test_forms(question: str, kind: str) -> None:
    assert classify(question).kind == kind


def test_polite_requests_are_requests_not_yes_no() -> None:
    for q in ("Can you summarize the leak story?", "Could you explain why the bike was recalled?",
              "Would you list the charges against Delane?", "Can you tell me what happened at the trial?"):
        assert classify(q).kind != "yesno", q
    assert classify("Can you summarize the leak story?").request.lower().startswith("summarize")


def test_recency_and_sides() -> None:
    assert classify("What happened this week with the strike?").recency
    assert not classify("What happened in October?").recency
    assert sides("What is the difference between the Arro and the Arro 2?") == ("the Arro", "the Arro 2")
    assert sides("Compare the fine and the appeal") == ("fine", "the appeal") or sides("Compare the fine and the appeal")[1] == "the appeal"
    assert sides("Who won?") == ()


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("How many Arro 2 e-bikes did Kestrel recall?", "count"),
        ("how many people went on strike", "count"),
        ("how long did marcus delane get in prison", "amount"),
        ("What salary will Beatrice Onyango be paid?", "amount"),
        ("what was the score in the final", "amount"),
        ("Could you tell me how much Binance paid?", "amount"),  # a polite frame around it
        ("How much did the strike affect commuters?", ""),  # a degree, not a figure
        ("When did the Northfield transit strike start?", "time"),
        ("In what year was the company founded?", "time"),
        ("Who replaced Marcus Delane?", "person"),
        ("whose company did Delane secretly control", "person"),
        ("Can you tell me who was hurt in the fire?", "person"),
        ("Why was the Arro 2 recalled?", ""),
        ("What happened at the trial?", ""),
        ("Which company supplied the batteries that caught fire in Kestrel's e-bike?", "name"),
        ("what battery supplier did kestrel switch to", "name"),
        ("Which team beat Rovers on Boxing Day?", "name"),
        ("Which Apple product faces an import ban?", ""),  # a product may carry its maker's name
        ("What did the company say?", ""),
        ("What does the Arro 2 cost now that it's back on sale?", "amount"),
        ("What prison sentence did Sam Bankman-Fried get?", "amount"),
        ("What was Jonathan Smith's salary at Oregon State?", "amount"),  # someone's salary
        ("What did the sentence say about the fine?", ""),  # not "what sentence"
    ],
)
def test_what_a_question_asks_to_be_told(question: str, asks: str) -> None:
    assert asks_for(question) == asks


def test_the_names_a_question_is_about_leave_out_its_opener_and_the_outlets_it_names() -> None:
    from rag.lexical import subject_terms

    assert subject_terms("What's the latest on Taylor Swift and Travis Kelce?") == ["taylor", "swift", "travi", "kelc"]
    assert subject_terms("Sum up the Quillon leak") == ["quillon"]
    q = "What did Bloomberg say about Kestrel?"
    assert subject_terms(q, [(q.index("Bloomberg"), q.index("Bloomberg") + 9)]) == ["kestrel"]


def test_can_you_frames_a_request_only_around_something_asked_of_the_assistant() -> None:
    # "Can you livestream ...?" asks whether a person can; "Can you summarize ...?" asks us to
    for q in ("Can you livestream to Instagram from the smart glasses?", "can you buy the arro 2 in europe?",
              "Could you still return the bike after the recall?"):
        assert classify(q).kind == "yesno", q
    assert classify("Can you walk me through the strike?").request.lower().startswith("walk")


def test_a_request_to_check_whether_is_a_yes_no_question() -> None:
    for q in ("Could you check whether Uber actually made a profit in the third quarter?",
              "Can you find out if Delane appealed?", "please confirm whether the fine was upheld"):
        f = classify(q)
        assert f.kind == "yesno", q
        assert f.request.lower().startswith(("whether", "if")), f.request


def test_a_spoken_opener_does_not_hide_what_is_asked() -> None:
    assert classify("so did ireland finally win a knockout game at the rugby world cup?").kind == "yesno"
    assert classify("ok, who won the game?").kind == "fact"
    assert classify("Also, why was the recall ordered?").kind == "explanation"
    assert classify("So, can you summarize the strike?").kind == "summary"
    # a title that opens with such a word is not an opener
    assert classify("So Many Reasons: what is the album about?").request.startswith("So Many Reasons")


def test_fare_frames_only_how_did_x_fare() -> None:
    from rag.lexical import about

    # "How did Ireland fare?" asks how it went: "fare" frames the question
    assert "fare" not in about("How did Ireland fare against Scotland?")
    assert "fare" not in about("how did the Rovers fare this season")
    # the noun is what is asked about
    for q in ("Did fares go up?", "Are Northfield bus fares going up?", "How did the fare freeze come about?"):
        assert "fare" in about(q), q
