from rag.followup import Turn, rewrite


def test_standalone_question_unchanged() -> None:
    assert rewrite("Who runs Quillon Systems?", []) == "Who runs Quillon Systems?"
    h = [Turn("Which company was fined?", "Quillon Systems")]
    assert rewrite("Did The Ledger report the Kestrel recall?", h) == "Did The Ledger report the Kestrel recall?"


def test_pronoun_resolved_to_previous_answer() -> None:
    h = [Turn("Which company did the regulators fine?", "Quillon Systems")]
    assert rewrite("Did it appeal?", h) == "Did Quillon Systems appeal?"
    assert rewrite("What did Harbor Daily say about its appeal?", h) == "What did Harbor Daily say about Quillon Systems's appeal?"


def test_pronoun_resolved_to_previous_subject_when_answer_is_yes_no() -> None:
    h = [Turn("Was Mateo Ferrand injured in October?", "Yes")]
    assert rewrite("When did he return?", h) == "When did Mateo Ferrand return?"


def test_fragment_completed_with_previous_question() -> None:
    h = [Turn("What did The Ledger report about the transit strike?", "")]
    assert rewrite("And Harbor Daily?", h) == "What did The Ledger report about the transit strike (Harbor Daily)?"
