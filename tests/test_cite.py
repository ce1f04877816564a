"""The citation check: it must fail where a reader would object, whoever wrote the sentence."""

from __future__ import annotations

from rag.cite import check_answer, check_sentence, rates, relevance, states, term_share
from rag.lexical import claim_terms
from rag.types import AnswerSentence, Evidence


def ev(n: int, text: str, source: str = "The Ledger", date: str = "2023-11-08", aid: str = "", title: str = "Kestrel recall") -> Evidence:
    return Evidence(n, f"{aid or n}-0", aid or f"a{n}", title, source, date, text, 0, len(text))


RECALL = ev(1, "Kestrel Mobility is recalling all 18,000 Arro 2 folding e-bikes after finding that some batteries can overheat while charging.")
SHARES = ev(2, "Shares in Kestrel fell 9% on the news, their biggest one-day drop since the company listed in 2019.")
FINE = ev(3, "The National Privacy Board has fined Quillon Systems $48 million for failing to protect personal data.", "Harbor Daily",
          "2023-10-04", title="Quillon fined")


def test_supported_paraphrase_passes() -> None:
    ok, why = check_sentence("Kestrel recalled the Arro 2 because its batteries can overheat while charging.", [RECALL],
                             "Why was the Arro 2 recalled?")
    assert ok, why


def test_number_absent_from_the_cited_passage_fails() -> None:
    ok, why = check_sentence("Kestrel is recalling 28,000 Arro 2 e-bikes over overheating batteries.", [RECALL], "How many bikes were recalled?")
    assert not ok and "28000" in why


def test_name_absent_from_the_cited_passage_fails() -> None:
    ok, why = check_sentence("Tessaro Cells made the batteries that overheat in the Arro 2.", [RECALL], "Who made the batteries?")
    assert not ok and "Tessaro" in why


def test_month_absent_from_the_cited_passage_and_its_date_fails() -> None:
    ok, why = check_sentence("Kestrel began recalling Arro 2 e-bikes in March.", [RECALL], "When did the recall start?")
    assert not ok and "March" in why
    ok, _ = check_sentence("Kestrel began recalling Arro 2 e-bikes in November.", [RECALL], "When did the recall start?")
    assert ok  # the passage's own publication month


def test_sentence_citing_an_unrelated_passage_fails() -> None:
    ok, _ = check_sentence("The Arro 2 was recalled because its batteries can overheat.", [FINE], "Why was the Arro 2 recalled?")
    assert not ok


def test_quote_answering_a_different_question_fails_the_relevance_test() -> None:
    # quoted word for word, so every fact is "in" the passage: only relevance can reject it
    quote = "The Ledger, November 8, 2023: “" + SHARES.text + "” [2]"
    ok, why = check_sentence(quote, [SHARES], "Why was the Arro 2 recalled?")
    assert not ok and "bear on the question" in why
    ok, why = check_sentence("The Ledger, November 8, 2023: “" + RECALL.text + "” [1]", [RECALL], "Why was the Arro 2 recalled?")
    assert ok, why


def test_question_words_and_frame_words_do_not_make_a_passage_relevant() -> None:
    happens = ev(4, "For many users the bigger question is what happens to their data now.")
    assert relevance("What happened in the Delane trial?", happens.text) == 0.0
    anyone = ev(5, "Kestrel is offering a free charger to anyone who buys before January.")
    assert relevance("Did anyone get hurt?", anyone.text) == 0.0


def test_check_answer_drops_markers_outside_the_evidence_and_judges_each_sentence() -> None:
    sents = [
        AnswerSentence("Kestrel is recalling 18,000 Arro 2 e-bikes [1] [7]", (1, 7), False, role="answer"),
        AnswerSentence("Shares fell 12% [2]", (2,), False, role="support"),
        AnswerSentence("No marker here", (), False, role="support"),
    ]
    res = check_answer(sents, [RECALL, SHARES], "How many Arro 2 bikes were recalled?")
    assert res.dropped_markers == 1
    assert [s.supported for s in res.sentences] == [True, False, False]
    assert res.sentences[0].cites == (1,)
    assert "12" in res.sentences[1].reason and res.sentences[2].reason == "cites no passage"


def test_a_supporting_sentence_may_bear_on_the_direct_answer_instead_of_the_question_words() -> None:
    burn = ev(6, "It has received 31 reports of overheating, and one owner suffered a minor burn to the hand.")
    sents = [
        AnswerSentence("Yes, one owner suffered a minor burn to the hand [6]", (6,), False, role="answer"),
        AnswerSentence("The Ledger, November 8, 2023: “" + burn.text + "” [6]", (6,), False, role="support"),
    ]
    res = check_answer(sents, [burn], "Was anybody injured by the bikes?")
    assert res.sentences[1].supported, res.sentences[1].reason



def test_a_sentence_is_judged_on_what_it_adds_to_the_question() -> None:
    q = "Which company, known for its folding e-bikes and a battery fault, recalled 18,000 bikes?"
    # restating the question around the answer: the answer (Kestrel) is what must be in the passage
    ok, why = check_sentence("Kestrel Mobility, known for its folding e-bikes, recalled 18,000 bikes [1].", [RECALL], q)
    assert ok, why
    # what it adds is not in the passage: fails, though the question's words are all there
    ok, why = check_sentence("Kestrel recalled 18,000 bikes after a factory fire in Lisbon destroyed its stock [1].", [RECALL], q)
    assert not ok
    # only the question again: asserts nothing the passage could support
    ok, why = check_sentence("A company recalled 18,000 bikes [1].", [RECALL], q)
    assert not ok and "restates" in why


def test_a_possessive_name_is_checked_as_its_name() -> None:
    ok, why = check_sentence("Kestrel's recall covers all 18,000 Arro 2 e-bikes.", [RECALL], "How many bikes did Kestrel recall?")
    assert ok, why
    ok, why = check_sentence("Tessaro's cells overheat in 18,000 Arro 2 e-bikes.", [RECALL], "How many bikes did Kestrel recall?")
    assert not ok and "Tessaro" in why  # a name the passage lacks still fails, possessive or not


def test_an_answer_must_state_the_figure_or_time_its_question_asks_for() -> None:
    assert states("amount", "Valve will sell three models.")
    assert states("amount", "He was jailed for six years [2].")
    assert not states("amount", "His sentencing is set for February 20, 2024 [3].")  # a date is not a figure
    assert not states("amount", "Kestrel recalled the 18,000 bikes.", "Of the 18,000 bikes, how many were fixed?")  # the asker's
    assert states("time", "The strike began on Monday (October 2, 2023).")
    assert not states("time", "The union said the strike would go on.")
    assert states("count", "About 1,900 drivers and mechanics walked out [1].")
    assert not states("count", "30% of services ran [1].")  # a share is not a count
    assert not states("count", "Only 30 percent of services ran [1].")
    assert states("amount", "Sales fell 30% [1].")  # "how much" may be a share
    q = "Who replaced Marcus Delane at Glenmoor Housing Trust?"
    assert states("person", "Beatrice Onyango took over as chief executive [2].", q)
    assert not states("person", "She replaces an interim leadership team [2].", q)  # no name
    assert not states("person", "Her appointment ends an interim period [2].", q)
    assert states("person", "An owner suffered a minor burn [1].", "Who was hurt?")  # a description says who
    # "which company": a name the question does not already give, not its own subject again
    q = "Which company supplied the batteries that caught fire in Kestrel's e-bike?"
    assert not states("name", "Kestrel Mobility [1].", q)
    assert states("name", "The cells came from Tessaro Cells, the supplier Kestrel began using this year [1].", q)
    assert not states("name", "The company that supplied them [1].", q)
    q = "How long was Kestrel's recall expected to take?"
    sents = [AnswerSentence("Kestrel recalled 18,000 Arro 2 e-bikes [1].", (1,), False, role="answer")]
    res = check_answer(sents, [RECALL], q, asks="amount")
    assert not res.sentences[0].supported  # 18,000 bikes is a figure, but not how long anything took
    res = check_answer(sents, [RECALL], "How much will the recall cost?", asks="amount")
    assert not res.sentences[0].supported  # a cost is a sum of money, not a number of bikes
    res = check_answer(sents, [RECALL], "How much did the recall grow?", asks="amount")
    assert res.sentences[0].supported  # "how much" alone names no unit: whether 18,000 is right is the model's part
    sents = [AnswerSentence("Kestrel recalled Arro 2 e-bikes over overheating batteries [1].", (1,), False, role="answer")]
    res = check_answer(sents, [RECALL], q, asks="amount")
    assert not res.sentences[0].supported and "figure" in res.sentences[0].reason
    assert check_answer(sents, [RECALL], q).sentences[0].supported  # the same sentence passes as a reason


def test_a_figure_must_be_of_the_kind_the_question_measures() -> None:
    # how long -> a duration, not a point in time; how old -> an age; how many X -> a count of X
    assert states("amount", "He was sentenced to six years in prison.", "How long did he get in prison?")
    assert states("amount", "He was jailed for life.", "How long was he jailed for?")
    assert not states("amount", "Three weeks later, he pleaded guilty.", "How long was he sentenced to?")
    q = "What prison sentence did he get?"  # a sentence is a length of time, not any number
    assert states("amount", "He was sentenced to six years in prison [1].", q)
    assert states("amount", "He was jailed for life [1].", q)
    assert not states("amount", "He was convicted on seven counts [1].", q)
    q = "What does the Arro 2 cost now?"  # a price is a sum of money
    assert states("amount", "It costs $1,199 [1].", q)
    assert not states("amount", "Kestrel recalled 18,000 bikes [1].", q)
    assert not states("amount", "The strike cost shops 30% of their trade.", "How long did the strike last?")
    assert states("amount", "The chief executive, 54, took over in November.", "How old is the chief executive?")
    assert not states("amount", "She manages 2,300 homes.", "How old is she?")
    q = "How many Steam Decks did Valve sell in the first week?"
    assert not states("count", "Valve will be selling three models.", q)  # three of something else
    assert not states("count", "The $649 model has a 1 TB OLED screen.", "How many Steam Deck OLEDs did Valve sell?")  # a size
    assert states("count", "Valve sold 40,000 Steam Decks in its first week.", q)
    assert states("count", "Everton were handed a 10-point deduction.", "How many points did Everton lose?")
    assert states("count", "About 1,900 drivers and mechanics walked out.", "How many people went on strike?")
    assert not states("count", "The strike entered its third week.", "How many people went on strike?")
    assert states("count", "Kestrel recalled 18,000.", "How many did Kestrel recall?")  # nothing named: any count
    assert states("count", "He scored twice.", "How many times did he score?")
    # an answer that is only the figure counts what the question names; a sentence must name it
    q = "How many customers were affected by the Quillon leak?"
    assert states("count", "2.4 million [1]", q)
    assert states("count", "About 2.4 million.", q)
    assert not states("count", "The number rose to 1,900.", q)
    assert not states("count", "2.4 million models", q)


def test_a_direct_answer_that_copies_a_passage_header_fails() -> None:
    recall = ev(1, RECALL.text, "Harbor Daily", "2023-10-04", title="Kestrel recalls Arro 2 e-bikes")
    copied = [AnswerSentence('Harbor Daily, 2023-10-04, "Kestrel recalls Arro 2 e-bikes" [1]', (1,), False, role="answer")]
    res = check_answer(copied, [recall], "What did Kestrel recall?")
    assert not res.sentences[0].supported and "header" in res.sentences[0].reason
    said = [AnswerSentence("On October 4, 2023, Kestrel recalled 18,000 Arro 2 e-bikes [1].", (1,), False, role="answer")]
    assert check_answer(said, [recall], "What did Kestrel recall?").sentences[0].supported


def test_a_number_is_not_found_inside_a_date_or_a_longer_number() -> None:
    shop = ev(3, '"The tram used to drop a hundred people at my door every noon," she said.', "Riverside Business Review", "2023-10-16")
    ok, why = check_sentence("10 people went on strike [3].", [shop], "How many people went on strike?")
    assert not ok and "10" in why  # the 10 of 2023-10-16 is a month, not a figure the passage states
    ok, why = check_sentence("The tram dropped a hundred people at her door on October 16, 2023 [3].", [shop], "How busy was the tram?")
    assert ok, why  # the publication date still supports itself, written as a date
    fine = ev(1, "The board fined the company $480 million.", "Harbor Daily", "2023-11-02")
    ok, why = check_sentence("The company was fined $48 million [1].", [fine], "How much was the company fined?")
    assert not ok and "48" in why


def test_a_count_written_as_a_word_must_be_in_the_cited_passage() -> None:
    # the transit overview said "The strike lasted for two weeks" over "now in its second week"
    week = ev(2, "The city's transit strike, which began on October 2, is now in its second week.", "Northfield Courier", "2023-10-11")
    q = "Could you sum up the Northfield transit strike?"
    ok, why = check_sentence("The strike lasted for two weeks [2].", [week], q)
    assert not ok and "'two'" in why  # "second" is not "two", and the "2" of October 2 is a date
    three = ev(3, "The strike ended after 3 weeks, when both sides signed a deal.", "Harbor Daily", "2023-10-24")
    ok, why = check_sentence("The strike ended after three weeks [3].", [three], q)
    assert ok, why  # the digit supports the word
    words = ev(4, "The strike ended after three weeks, when both sides signed a deal.", "Harbor Daily", "2023-10-24")
    assert check_sentence("The strike ended after three weeks [4].", [words], q)[0]
    # a count the question gives is the asker's premise; "one" is as often a pronoun and not checked
    ok, why = check_sentence("The deal came after three weeks of talks [2].", [week], "What ended the three weeks of strikes?")
    assert "'three'" not in why
    rider = ev(5, "A rider said the strike, which began on October 2, had cost her a job interview.", "Harbor Daily", "2023-10-24")
    ok, why = check_sentence("One rider said the strike cost her a job interview [5].", [rider], "How did the strike affect riders?")
    assert ok, why
    # a count of weeks is that count of weeks: "two" of "over two years" does not say "two weeks"
    offer = ev(6, "NRT raised its offer to 5.5% over two years, and the strike is now in its second week.", "Northfield Courier", "2023-10-11")
    ok, why = check_sentence("The strike lasted for two weeks [6].", [offer], q)
    assert not ok and "'two weeks'" in why
    assert check_sentence("NRT raised its offer to 5.5% over two years [6].", [offer], q)[0]
    sentence = ev(7, "Delane was sentenced to six years in prison.", "The Ledger", "2023-12-07")
    assert check_sentence("Delane got a six-year prison sentence [7].", [sentence], "What happened to Delane?")[0]


def test_a_figure_the_passage_gives_only_as_a_possibility_is_not_stated_as_fact() -> None:
    # "How long was Changpeng Zhao sentenced to?" was answered from what the guidelines suggest
    guide = ev(4, "While guidelines suggest a sentence of 12 to 18 months, the Justice Department could push for a "
                  "lengthier punishment for the Binance founder.", "CNBC", "2023-11-30")
    q = "How long was Changpeng Zhao sentenced to?"
    ok, why = check_sentence("Changpeng Zhao was sentenced to 12 to 18 months [4].", [guide], q)
    assert not ok and "possibility" in why and "guidelines suggest" in why
    # said as what it is, it stands
    ok, why = check_sentence("Guidelines suggest Zhao could get 12 to 18 months [4].", [guide], q)
    assert ok, why
    # a passage that gives the ceiling and the outcome supports the outcome, not the ceiling
    both = ev(5, "He faced charges carrying up to 110 years in prison, and was sentenced to 25 years.", "Fortune", "2024-03-28")
    q = "How long was he sentenced to?"
    assert check_sentence("He was sentenced to 25 years [5].", [both], q)[0]
    ok, why = check_sentence("He was sentenced to 110 years [5].", [both], q)
    assert not ok and "110" in why
    # "May" the month is not a hedge
    may = ev(6, "In May, the court sentenced him to 25 years in prison.", "Fortune", "2024-06-01")
    assert check_sentence("He was sentenced to 25 years in May [6].", [may], q)[0]
    # a figure in a sentence that opens with a condition is conditional in each of its clauses
    cond = ev(3, "Judge Harold Fenwick ordered Delane to repay $2.7 million. If he fails to pay within two years, "
                 "another 18 months will be added to his sentence.", "The Ledger", "2023-12-07")
    q = "What did the judge order Delane to do besides going to prison?"
    ok, why = check_sentence("The judge added another 18 months to his sentence [3].", [cond], q)
    assert not ok and "possibility" in why
    said = "The judge ordered Delane to repay $2.7 million; if he fails to pay, another 18 months will be added [3]."
    assert check_sentence(said, [cond], q)[0]
    # the condition ends with its sentence, also where the next one opens with a figure (a live blog)
    blog = ev(1, "If Hope gets going, West Indies take the spoils. 12.4 overs: West Indies 108-4 (Hope 27, Powell 6). "
                 "Shai Hope can't break the legspin.", "The Guardian", "2023-12-12")
    q = "How did Shai Hope do against legspin in the fifth T20?"
    assert check_sentence("West Indies were 108-4 after 12.4 overs, Hope on 27, unable to break the legspin [1].", [blog], q)[0]


def test_a_name_is_its_words_in_their_order_not_its_words_anywhere() -> None:
    # both words are in the passage, in two other names: "Tessaro Cells" and "Norvik Energy"
    relaunch = ev(5, "The relaunched bike uses a redesigned battery pack built with cells from Norvik Energy, "
                     "replacing the Tessaro Cells batteries that caused the recall.", "Metro Tech Wire", "2023-12-11")
    q = "Why did the Arro 2 batteries overheat?"
    ok, why = check_sentence("The batteries overheated because they used cells from Tessaro Energy [5].", [relaunch], q)
    assert not ok and "Tessaro Energy" in why
    assert check_sentence("The batteries that caused the recall used cells from Tessaro Cells [5].", [relaunch], q)[0]
    # "Northfield" from the outlet's name and "Rovers" from the headline are not the club's name
    pub = ev(2, "Pub landlord Frank Tully said he had not seen the neighbourhood this busy since the "
                "title-winning season in 2009.", "Northfield Courier", "2023-09-30", title="Unbeaten Rovers sit on top")
    ok, why = check_sentence("Northfield Rovers won the Premier Division title this season [2].", [pub], "Who won the Premier Division title this season?")
    assert not ok and "Northfield Rovers" in why
    # a nickname between the names, a possessive and a role word before a name stand
    feud = ev(1, "YouTube suspended the ad money of Alia “SSSniperwolf” Shelesh after Jack “Jacksfilms” Douglass "
                 "said she filmed the outside of his home.", "Polygon", "2023-10-25")
    q = "How come YouTube pulled SSSniperwolf's ad money?"
    assert check_sentence("YouTube suspended it after Jack Douglass said Shelesh filmed his home [1].", [feud], q)[0]
    assert check_sentence("YouTube suspended Shelesh's ad money after Douglass's complaint about his home [1].", [feud], q)[0]
    # a name the question gives, a plural and initials written two ways are the same name
    deal = ev(4, "Lawmakers also agreed a phased approach to the Act's demands, with 24 months before the rules apply.",
              "TechCrunch", "2023-12-11", title="EU strikes deal")
    q = "What did EU lawmakers agree in December about AI?"
    assert check_sentence("EU lawmakers agreed a phased approach to the EU AI Act's demands [4].", [deal], q)[0]
    ban = ev(7, "Apple is exploring options to get around the import ban on its watches, the Apple Watch Series 9 and "
                "Ultra 2.", "The Verge", "2023-12-19")
    assert check_sentence("Apple is exploring options to get around the ban on Apple Watches [7].", [ban], "Summarise the Apple Watch import ban story.")[0]
    doj = ev(1, "Zhao pleaded guilty to violations brought by the Department of Justice and other U.S. agencies.", "TechCrunch", "2023-11-21")
    assert check_sentence("The Department of Justice and other U. S. agencies [1].", [doj], "Which US agencies did Binance settle with?")[0]
    # a first name in a headline's quote and the surname in the text are one person's name
    exit_ = ev(2, "Altman's exit is shocking, as he has been the face of generative AI, said Gartner analyst Arun "
                  "Chandrasekaran.", "Fortune", "2023-11-18", title="Ex-chairman: 'Sam and I are shocked'")
    q = "Who became a notable figure in generative AI and faced a shocking departure from OpenAI?"
    assert check_sentence("Sam Altman, the face of generative AI, had a shocking exit [2].", [exit_], q)[0]
    judge = ev(3, "Judge Harold Fenwick ordered Marcus Delane to repay $2.7 million.", "The Ledger", "2023-12-07")
    q = "What did the judge order Delane to do?"
    assert check_sentence("Judge Fenwick ordered Delane to repay $2.7 million [3].", [judge], q)[0]


def test_a_sum_of_money_and_a_rate_must_be_what_the_passage_gives() -> None:
    # "what salary" / "how much was it fined" want money: a count of charges is not a salary
    q = "What salary will Beatrice Onyango be paid?"
    assert not states("amount", "A jury found Marcus Delane guilty on four counts of fraud [4].", q)
    assert states("amount", "She will be paid $180,000 a year [2].", q)
    assert states("amount", "She will earn 150,000 pounds [2].", q)
    assert not states("amount", "Quillon was fined over a leak of 2.3 million records [3].", "How much was Quillon fined?")
    assert states("amount", "Drivers get a 7% raise [1].", "How much of a pay rise did the drivers get?")  # a rise may be a share
    # a figure given per something must be per the same thing in the passage
    cost = ev(4, "Kestrel expects the recall to cost about $31 million, as it confirmed the batteries came from Tessaro Cells.")
    q = "How much did Kestrel pay Tessaro Cells per battery cell?"
    sents = [AnswerSentence("Kestrel paid Tessaro Cells about $31 million per battery cell [4].", (4,), False, role="answer")]
    res = check_answer(sents, [cost], q, asks="amount")
    assert not res.sentences[0].supported and "per battery cell" in res.sentences[0].reason
    price = ev(4, "Tessaro Cells charged Kestrel $31 million a cell for the batteries, the filing shows.")
    assert check_answer(sents, [price], q, asks="amount").sentences[0].supported  # "a cell" is "per battery cell"
    assert rates("In 2023 a jury found him guilty") == []  # a year before "a" is not a rate


def test_a_number_inside_a_name_does_not_support_a_figure() -> None:
    # "Arro 2" in the passage is a name: "increased from 14 to 2" is not in it
    reports = ev(5, "Kestrel has received at least 14 reports of Arro 2 batteries overheating, the company said.")
    q = "How did the number of overheating reports change?"
    ok, why = check_sentence("The number of overheating reports increased from 14 to 2 [5].", [reports], q)
    assert not ok and "number 2" in why
    assert check_sentence("Kestrel had at least 14 reports of Arro 2 batteries overheating [5].", [reports], q)[0]
    dated = ev(6, "By October 2, Kestrel had 14 overheating reports.")
    assert check_sentence("Kestrel had 14 overheating reports by October 2 [6].", [dated], q)[0]  # a date is no name


def test_an_ordinal_is_a_figure_the_passage_must_give() -> None:
    crowd = ev(7, "The attendance of 31,400 was the largest since the stadium was rebuilt, and the club sold out its home tickets.")
    q = "How did Rovers get on this week?"
    ok, why = check_sentence("Rovers ended the year in second place after a 31,400 attendance [7].", [crowd], q)
    assert not ok and "second" in why
    table = ev(8, "Rovers will go into the new year second in the Premier Division after a 3-0 win, watched by 31,400.")
    assert check_sentence("Rovers go into the new year second in the Premier Division [8].", [table], q)[0]


def test_a_figure_spelled_out_matches_its_abbreviation_and_a_past_form_its_verb() -> None:
    deal = ev(9, "Microsoft has sealed its long-awaited deal for Activision Blizzard, and it's paid $69bn (£56bn) for the privilege.")
    q = "How much did Microsoft end up paying for Activision Blizzard?"
    assert check_sentence("Microsoft paid $69 billion (£56 billion) for Activision Blizzard [9].", [deal], q)[0]
    assert not check_sentence("Microsoft paid $96 billion for Activision Blizzard [9].", [deal], q)[0]
    assert claim_terms(q) == ["pay"]  # "end up" frames the question
    assert term_share(claim_terms(q), deal.text) == 1.0  # "paid" is "pay"


CROWDS = (
    ev(1, "Rovers go into the new year second after a 3-0 win on Boxing Day in front of a record crowd at Millgate Park.",
       "Northfield Courier", "2023-12-27", title="Rovers end 2023 in second place"),
    ev(5, "The attendance of 24,800 was the highest for an opening game at Millgate Park in a decade.",
       "Northfield Courier", "2023-09-30", title="Rovers top the table"),
    "compare the crowd at millgate park on opening day with the boxing day game",
)  # fmt: skip


def test_a_figure_borrowed_from_another_passage_for_another_thing_fails() -> None:
    boxing, opening, q = CROWDS
    borrowed = "The opening day crowd was 24,800, while the Boxing Day game had a record crowd of 24,800. [1] [5]"
    ok, why = check_sentence(borrowed, [boxing, opening], q)
    assert not ok and "24800" in why
    # each figure with what its own passage says about it passes
    fair = "The opening game drew an attendance of 24,800, the highest in a decade, while Boxing Day drew a record crowd. [5] [1]"
    assert check_sentence(fair, [boxing, opening], q) == (True, "")


def test_an_answer_whose_second_clause_fails_keeps_its_supported_first_clause() -> None:
    boxing, opening, q = CROWDS
    lead = AnswerSentence(
        "The attendance at Millgate Park on opening day was 24,800, while the Boxing Day game had a record crowd of 24,800. [1] [5]",
        (1, 5), False, role="answer",
    )  # fmt: skip
    (got,) = check_answer([lead], [boxing, opening], q).sentences
    assert got.supported and got.text == "The attendance at Millgate Park on opening day was 24,800. [5]" and got.cites == (5,)
    # a first clause the passages do not support is not kept either
    bad = AnswerSentence("The Boxing Day crowd was 24,800, while opening day drew a record. [1] [5]", (1, 5), False, role="answer")
    assert not check_answer([bad], [boxing, opening], q).sentences[0].supported


def test_an_amount_stated_only_as_a_possibility_or_a_demand_is_not_stated() -> None:
    q = "How many years in prison did she get?"
    assert not states("amount", "Each charge carries a sentence of one to 15 years in prison [1].", q)
    assert not states("amount", "Prosecutors sought 10 years [1].", q)
    assert states("amount", "Prosecutors sought 10 years; the judge gave her six years [1].", q)
    assert states("amount", "Each charge carries up to 15 years [1].", "How long could she be jailed for?")
    assert states("amount", "The Arro 2 now costs $1,199, after the union asked for a cut [1].", "What does the Arro 2 cost?")


def test_the_digits_of_a_date_do_not_support_a_figure() -> None:
    q = "How many years in prison did Ruby Franke get?"
    said = ev(3, "Ruby Franke's lawyers said on Friday (December 15, 2023) that she got years of prison for the abuse.")
    assert not check_sentence("Ruby Franke got 15 years in prison [3].", [said], q)[0]
    assert check_sentence("Her lawyers spoke on December 15 [3].", [said], "When did her lawyers speak?")[0]
    jailed = ev(4, "Franke was jailed for 15 years on December 18.")
    assert check_sentence("Ruby Franke got 15 years in prison [4].", [jailed], q)[0]


def test_a_question_that_names_nothing_is_not_a_ground_for_failing_relevance() -> None:
    # "Summarize the article." holds only words that frame it: every model summary failed as
    # "does not bear on the question (relevance 0.00)", however well its passage supported it
    ok, why = check_sentence("Kestrel is recalling 18,000 Arro 2 e-bikes because some batteries can overheat. [1]", [RECALL],
                             "Summarize the article.")  # fmt: skip
    assert ok, why
    ok, why = check_sentence("Kestrel is recalling 28,000 Arro 2 e-bikes. [1]", [RECALL], "Summarize the article.")
    assert not ok and "28000" in why  # the rest of the check still holds
    ok, _ = check_sentence("Quillon Systems was fined for failing to protect personal data. [2]", [SHARES], "What happened?")
    assert not ok  # a sentence its passage does not support still fails


def test_a_reason_taken_from_an_article_about_something_else_fails() -> None:
    # the model joined a sentence of an article on Sony Music to the question's subject
    q = "How come YouTube pulled SSSniperwolf's ad money?"
    feud = ev(1, "Douglass said that Shelesh showed up at his house, and SSSniperwolf later posted a video of it.", aid="feud",
              title="YouTube demonetizes popular content creator SSSniperwolf after doxxing accusations")  # fmt: skip
    sony = ev(2, "However, the October US Copyright Office filing from Google has definitely put the cat amongst the pigeons at Sony Music HQ.",
              aid="sony", title="Sony Music's artists aren't involved in YouTube's new voice-cloning AI experiment")  # fmt: skip
    bad = AnswerSentence(
        "YouTube pulled SSSniperwolf's ad money because the October US Copyright Office filing from Google has "
        "definitely put the cat amongst the pigeons at Sony Music HQ. [2] [1]", (2, 1), False, role="answer"
    )  # fmt: skip
    res = check_answer([bad], [feud, sony], q)
    assert not res.sentences[0].supported and "does not name SSSniperwolf" in res.sentences[0].reason, res.sentences[0].reason
    # the reason from the article about the feud stands
    good = AnswerSentence("YouTube pulled SSSniperwolf's ad money after she showed up at Douglass's house. [1]", (1,), False, role="answer")
    assert check_answer([good], [feud, sony], q).sentences[0].supported
    # a reason from another article on the same subject stands too ("its article names it")
    other = ev(3, "YouTube said the video of his house broke its rules, and suspended its ads.", aid="feud2",
               title="SSSniperwolf loses ads after video")  # fmt: skip
    ok = AnswerSentence("YouTube pulled SSSniperwolf's ad money because the video of his house broke its rules. [3]", (3,), False, role="answer")
    assert check_answer([ok], [feud, sony, other], q).sentences[0].supported


def test_a_means_taken_from_an_article_about_another_birth_fails() -> None:
    # "how did it happen?" answered "by having …", the means told in an article about someone else
    q = "How did the hospital end up mixing up Diane Bazella with the other baby?"
    hers = ev(1, "Diane Bazella found out through a DNA test that she had been switched at birth in 1963.", aid="bazella",
              title="Minnesota woman learns she was switched at birth")  # fmt: skip
    other = ev(2, "Gabrielle went to the hospital with her sister at 10pm before ringing McRae at 6am to join them.", aid="smh",
               title="A long night in the labour ward")  # fmt: skip
    bad = AnswerSentence(
        "The hospital mixed up Diane Bazella with the other baby by having her sister ring McRae at 6am to join them. [2] [1]",
        (2, 1), False, role="answer",
    )  # fmt: skip
    res = check_answer([bad], [hers, other], q).sentences[0]
    assert not res.supported and "does not name" in res.reason, res.reason
    # "by" before a name or a noun is no means: "was bought by Ratcliffe" is not checked this way
    plain = AnswerSentence("Diane Bazella was switched at birth, found out by a DNA test. [1]", (1,), False, role="answer")
    assert check_answer([plain], [hers, other], q).sentences[0].supported


def test_a_figure_dated_by_another_passages_day_fails() -> None:
    q = "How did the Rovers' season go from the opening day to December?"
    opener = ev(1, "Northfield Rovers opened their season with a 3-1 win over Ashby Town at Millgate Park on Saturday.", aid="open")
    second = ev(2, "Northfield Rovers will go into the new year second after a 3-0 win over Port Elling on Boxing Day. "
                   "Rovers play away at Ashby Town on New Year's Day.", aid="dec")  # fmt: skip
    bad = AnswerSentence(
        "The Rovers won 3-0 over Port Elling on Boxing Day, followed by a 3-1 win over Ashby Town on New Year's Day. [2] [1]",
        (2, 1), False, role="answer",
    )  # fmt: skip
    res = check_answer([bad], [opener, second], q).sentences[0]
    # the false second clause goes; the first stands alone, citing the passage that supports it
    assert res.supported and "New Year" not in res.text and "Boxing Day" in res.text and res.cites == (2,), res
    ok, why = check_sentence("The Rovers beat Ashby Town 3-1 on New Year's Day. [1]", [opener], q)
    assert not ok and "New Year's Day" in why, why
    assert check_sentence("The Rovers beat Port Elling 3-0 on Boxing Day. [2]", [second], q)[0]


def test_a_score_credited_to_the_side_the_passage_says_lost_fails() -> None:
    q = "What happened when Rovers played Calder City in October?"
    loss = ev(1, "Northfield Rovers lost their unbeaten record and their top scorer on the same afternoon, as Calder City "
                 "won 2-0 at Millgate Park on Saturday.", aid="oct")  # fmt: skip
    ok, why = check_sentence("Rovers played Calder City on Saturday, winning 2-0 at Millgate Park. [1]", [loss], q)
    assert not ok and "Calder City won 2-0" in why, why
    assert not check_sentence("Rovers beat Calder City 2-0 at Millgate Park. [1]", [loss], q)[0]
    assert check_sentence("Calder City beat Rovers 2-0 at Millgate Park. [1]", [loss], q)[0]
    win = ev(2, "Mateo Ferrand scored the winning goal as Northfield Rovers beat league leaders Calder City 2-1 at the "
                "Riverbank Stadium on Saturday.", aid="dec")  # fmt: skip
    assert not check_sentence("Calder City beat Rovers 2-1 at the Riverbank Stadium. [2]", [win], q)[0]
    assert check_sentence("Mateo Ferrand scored for Rovers in the 2-1 win at Calder City. [2]", [win], q)[0]
    # a side called by another name than the passage's is not judged ("the Wildcats" for Arizona)
    rout = ev(3, "Arizona beat No. 22 Utah 42-18 at Arizona Stadium.", aid="ncaa")
    assert check_sentence("The Wildcats beat the Utes 42-18. [3]", [rout], "How did the Wildcats do against the Utes?")[0]


def test_a_reason_resting_on_a_passage_that_says_none_is_known_fails() -> None:
    q = "Why did ElectraMeccanica call off its merger with Tevva?"
    plug = ev(1, "In October, ElectraMeccanica inexplicably pulled the plug on that merger.", aid="evs", title="EVs we lost")
    bad = AnswerSentence("ElectraMeccanica called off the merger because it inexplicably pulled the plug on it. [1]", (1,), False, role="answer")
    res = check_answer([bad], [plug], q).sentences[0]
    assert not res.supported and "no reason" in res.reason, res
    # what the passage says, without a reason, stands
    said = AnswerSentence("ElectraMeccanica inexplicably pulled the plug on the merger in October. [1]", (1,), False, role="answer")
    assert check_answer([said], [plug], q).sentences[0].supported
    # a reason that rests on such a passage about something the question does not name is not judged
    q2 = "Why did Israel's defences fail?"
    balloons = ev(2, "There had been a second line of defense, observation balloons, but for unknown reasons, all three had "
                     "stopped working some weeks before the attack.", aid="isr", title="Defense undone")  # fmt: skip
    reason = AnswerSentence("Israel's defences failed because its observation balloons had stopped working. [2]", (2,), False, role="answer")
    assert "no reason" not in check_answer([reason], [balloons], q2).sentences[0].reason


def test_a_passage_bears_on_the_question_through_its_headline() -> None:
    # "It now sells for $1,199" names neither the Arro 2 nor its relaunch: its article does
    q = "What will the Arro 2 cost after the relaunch?"
    price = "It now sells for $1,199, down $100 from launch, with a free second charger."
    ok, why = check_sentence("$1,199 [1]", [ev(1, price, title="Kestrel restarts Arro 2 sales with redesigned battery")], q, headline=True)
    assert ok, why
    ok, why = check_sentence("$1,199 [1]", [ev(1, price, title="Discounts of the week")], q, headline=True)
    assert not ok and "does not bear" in why


def test_a_name_is_held_where_its_last_word_is_written_as_a_name() -> None:
    # "Ferrand returned from injury" is about Mateo Ferrand: the newest passage on "Is Mateo
    # Ferrand injured?" had counted as bearing on it less than "Mateo Ferrand marked his return"
    q = "Is Mateo Ferrand injured?"
    assert relevance(q, "Rovers have won four games since Ferrand returned from injury.") == 1.0
    assert relevance(q, "Mateo Ferrand marked his return from injury.") == 1.0
    assert relevance(q, "Rovers have won four games since the striker returned from injury.") < 1.0
    # a last word written in lower case is another word: "watch the game" is not the Apple Watch
    assert relevance("Any news on the Apple Watch ban?", "Fans can watch the ban debate tonight.") < relevance(
        "Any news on the Apple Watch ban?", "The Watch ban starts tonight."
    )
