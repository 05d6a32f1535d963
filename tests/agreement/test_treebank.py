# ruff: noqa: E501  (CoNLL-U lines are as long as their columns)
from spacy_lstm.agreement import items_from_conllu

# ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC
TREES = """\
# text = The keys to the cabinet are on the table .
1	The	the	DET	DT	_	2	det	_	_
2	keys	key	NOUN	NNS	Number=Plur	9	nsubj	_	_
3	to	to	ADP	IN	_	5	case	_	_
4	the	the	DET	DT	_	5	det	_	_
5	cabinet	cabinet	NOUN	NN	Number=Sing	2	nmod	_	_
6	are	be	AUX	VBP	Mood=Ind|Tense=Pres|VerbForm=Fin	9	cop	_	_
7	on	on	ADP	IN	_	9	case	_	_
8	the	the	DET	DT	_	9	det	_	_
9	table	table	NOUN	NN	Number=Sing	0	root	_	_
10	.	.	PUNCT	.	_	9	punct	_	_

# text = The authors that the guard likes laugh .
1	The	the	DET	DT	_	2	det	_	_
2	authors	author	NOUN	NNS	Number=Plur	7	nsubj	_	_
3	that	that	PRON	WDT	_	6	obj	_	_
4	the	the	DET	DT	_	5	det	_	_
5	guard	guard	NOUN	NN	Number=Sing	6	nsubj	_	_
6	likes	like	VERB	VBZ	Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	2	acl:relcl	_	_
7	laugh	laugh	VERB	VBP	Tense=Pres|VerbForm=Fin	0	root	_	_
8	.	.	PUNCT	.	_	7	punct	_	_

# text = The boy laughs .
1	The	the	DET	DT	_	2	det	_	_
2	boy	boy	NOUN	NN	Number=Sing	3	nsubj	_	_
3	laughs	laugh	VERB	VBZ	Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	0	root	_	_
4	.	.	PUNCT	.	_	3	punct	_	_

# text = The letters from the lawyers and the judge have been lost .
1	The	the	DET	DT	_	2	det	_	_
2	letters	letter	NOUN	NNS	Number=Plur	11	nsubj:pass	_	_
3	from	from	ADP	IN	_	5	case	_	_
4	the	the	DET	DT	_	5	det	_	_
5	lawyers	lawyer	NOUN	NNS	Number=Plur	2	nmod	_	_
6	and	and	CCONJ	CC	_	8	cc	_	_
7	the	the	DET	DT	_	8	det	_	_
8	judge	judge	NOUN	NN	Number=Sing	5	conj	_	_
9	have	have	AUX	VBP	Mood=Ind|Tense=Pres|VerbForm=Fin	11	aux	_	_
10	been	be	AUX	VBN	Tense=Past|VerbForm=Part	11	aux:pass	_	_
11	lost	lose	VERB	VBN	Tense=Past|VerbForm=Part|Voice=Pass	0	root	_	_
12	.	.	PUNCT	.	_	11	punct	_	_

# text = She walks .  (a pronoun subject: no item)
1	She	she	PRON	PRP	Number=Sing|Person=3	2	nsubj	_	_
2	walks	walk	VERB	VBZ	Number=Sing|Person=3|Tense=Pres|VerbForm=Fin	0	root	_	_
3	.	.	PUNCT	.	_	2	punct	_	_

# text = The police are here .  (subject and verb disagree in the tags: no item)
1	The	the	DET	DT	_	2	det	_	_
2	police	police	NOUN	NN	Number=Sing	4	nsubj	_	_
3	are	be	AUX	VBP	Mood=Ind|Tense=Pres|VerbForm=Fin	4	cop	_	_
4	here	here	ADV	RB	_	0	root	_	_
5	.	.	PUNCT	.	_	4	punct	_	_

# text = The man 's gone .  (a contraction: no item)
1	The	the	DET	DT	_	2	det	_	_
2	man	man	NOUN	NN	Number=Sing	4	nsubj	_	_
3	's	be	AUX	VBZ	Mood=Ind|Tense=Pres|VerbForm=Fin	4	aux	_	_
4	gone	go	VERB	VBN	Tense=Past|VerbForm=Part	0	root	_	_
5	.	.	PUNCT	.	_	4	punct	_	_

# text = Dogs sleep .  (no singular form of sleep anywhere: no item)
1	Dogs	dog	NOUN	NNS	Number=Plur	2	nsubj	_	_
2	sleep	sleep	VERB	VBP	Tense=Pres|VerbForm=Fin	0	root	_	_
3	.	.	PUNCT	.	_	2	punct	_	_

# text = The keys were lost .
1	The	the	DET	DT	_	2	det	_	_
2	keys	key	NOUN	NNS	Number=Plur	4	nsubj:pass	_	_
3	were	be	AUX	VBD	Mood=Ind|Tense=Past|VerbForm=Fin	4	aux:pass	_	_
4	lost	lose	VERB	VBN	Tense=Past|VerbForm=Part|Voice=Pass	0	root	_	_
5	.	.	PUNCT	.	_	4	punct	_	_
"""


def test_items_from_hand_written_trees(tmp_path):
    path = tmp_path / "trees.conllu"
    path.write_text(TREES, encoding="utf8")
    items = items_from_conllu([path])
    got = [(" ".join(i.prefix), i.correct, i.wrong, i.group) for i in items]
    assert got == [
        # the copula agrees with the subject across "cabinet": one attractor
        ("The keys to the cabinet", "are", "is", "1"),
        # the main verb across the relative clause's singular "guard"; the
        # singular "laughs" is taken from the third sentence
        ("The authors that the guard likes", "laugh", "laughs", "1"),
        # the relative clause's own subject: nothing between subject and verb
        ("The authors that the guard", "likes", "like", "0"),
        ("The boy", "laughs", "laugh", "0"),
        # the first auxiliary agrees; "lawyers" is plural like the subject,
        # "judge" singular: one attractor
        ("The letters from the lawyers and the judge", "have", "has", "1"),
        ("The keys", "were", "was", "0"),
    ]
    assert items[0].where == f"{path}, sentence at line 1"
