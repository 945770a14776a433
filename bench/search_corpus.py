"""A deterministic synthetic oral-history archive for the search benchmark.

``interviews(n)`` yields, for each of ``n`` interviews, the list of index documents the app
would feed to ``SearchIndex.replace_interview`` (one catalogue record, ~1,200 segments of two
speakers, a dozen OHMS-style index points); ``documents(n)`` yields document records. The same
seed always gives the same archive, and interview ``i`` does not depend on the others (so a
slice can be regenerated on its own).

Words follow a Zipf distribution over a vocabulary of common English words, topical words with
their inflections (so stemming and prefixes behave as on real transcripts), and a long tail of
invented words; names, places and stock phrases ("the general strike") are sprinkled in.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

SEED = 1957

COMMON = [
    "the",
    "and",
    "i",
    "to",
    "a",
    "of",
    "that",
    "it",
    "was",
    "in",
    "we",
    "you",
    "they",
    "he",
    "my",
    "so",
    "there",
    "but",
    "had",
    "were",
    "just",
    "on",
    "for",
    "with",
    "what",
    "know",
    "not",
    "be",
    "at",
    "all",
    "about",
    "when",
    "one",
    "out",
    "have",
    "this",
    "them",
    "well",
    "would",
    "did",
    "like",
    "then",
    "from",
    "up",
    "because",
    "were",
    "her",
    "she",
    "his",
    "him",
    "if",
    "our",
    "no",
    "do",
    "could",
    "said",
    "go",
    "went",
    "get",
    "got",
    "there's",
    "people",
    "time",
    "back",
    "think",
    "really",
    "remember",
    "some",
    "more",
    "very",
    "over",
    "little",
    "years",
    "went",
    "come",
    "came",
    "used",
    "never",
    "way",
    "into",
    "day",
    "after",
    "thing",
    "things",
    "lot",
    "much",
    "good",
    "didn't",
    "those",
    "never",
    "going",
    "yes",
    "something",
    "right",
    "where",
    "how",
    "always",
    "home",
    "long",
    "first",
    "these",
    "mother",
    "father",
    "family",
    "house",
    "town",
    "school",
    "work",
    "worked",
    "working",
    "job",
    "children",
    "kids",
    "old",
    "young",
    "year",
    "down",
    "make",
    "made",
    "still",
    "big",
    "church",
    "city",
    "country",
    "war",
    "money",
    "friends",
    "night",
    "morning",
    "week",
    "street",
    "place",
    "road",
    "hard",
    "man",
    "woman",
    "men",
    "women",
    "boy",
    "girl",
    "brother",
    "sister",
    "husband",
    "wife",
    "son",
    "daughter",
    "everybody",
    "nobody",
]

TOPICAL = [
    "union",
    "unions",
    "unionised",
    "strike",
    "strikes",
    "striking",
    "striker",
    "strikers",
    "picket",
    "pickets",
    "picketing",
    "factory",
    "factories",
    "mill",
    "mills",
    "miner",
    "miners",
    "mining",
    "colliery",
    "pit",
    "shift",
    "shifts",
    "foreman",
    "wages",
    "wage",
    "pay",
    "overtime",
    "layoff",
    "layoffs",
    "organise",
    "organised",
    "organising",
    "organiser",
    "organisers",
    "organisation",
    "train",
    "trains",
    "trained",
    "training",
    "trainee",
    "railway",
    "railways",
    "railwayman",
    "trail",
    "trailer",
    "tractor",
    "trade",
    "trades",
    "traded",
    "trading",
    "tradition",
    "traditional",
    "harvest",
    "farm",
    "farmer",
    "farming",
    "cattle",
    "drought",
    "flood",
    "dam",
    "bridge",
    "harbour",
    "dock",
    "docks",
    "docker",
    "dockers",
    "ship",
    "ships",
    "shipyard",
    "steel",
    "iron",
    "coal",
    "cotton",
    "weaving",
    "weaver",
    "loom",
    "spinning",
    "election",
    "vote",
    "voting",
    "votes",
    "council",
    "councillor",
    "mayor",
    "protest",
    "protests",
    "march",
    "marched",
    "marching",
    "rights",
    "civil",
    "segregation",
    "integration",
    "church",
    "choir",
    "chapel",
    "preacher",
    "sermon",
    "immigration",
    "immigrant",
    "immigrants",
    "emigrated",
    "passport",
    "border",
    "refugee",
    "refugees",
    "camp",
    "evacuation",
    "evacuated",
    "wartime",
    "rationing",
    "ration",
    "bombing",
    "shelter",
    "blackout",
    "soldier",
    "soldiers",
    "army",
    "navy",
    "regiment",
    "conscription",
    "demobbed",
    "pamphlet",
    "newspaper",
    "leaflet",
    "radio",
    "television",
    "telephone",
    "typewriter",
    "hospital",
    "nurse",
    "nursing",
    "doctor",
    "midwife",
    "teacher",
    "teachers",
    "teaching",
    "classroom",
    "headmaster",
    "scholarship",
    "university",
    "college",
    "apprentice",
    "apprenticeship",
    "cooperative",
    "cooperatives",
    "bakery",
    "butcher",
    "grocer",
    "market",
    "shop",
    "shops",
    "shopkeeper",
    "landlord",
    "tenant",
    "tenants",
    "rent",
    "eviction",
    "housing",
    "estate",
    "tenement",
    "slum",
    "clearance",
]

FIRST = [
    "Kate",
    "Mary",
    "Joan",
    "Annie",
    "Bridget",
    "Ellen",
    "Rosa",
    "Maria",
    "José",
    "André",
    "Hélène",
    "Zoë",
    "Agnes",
    "Dorothy",
    "Margaret",
    "Frank",
    "John",
    "Patrick",
    "Michael",
    "Joseph",
    "William",
    "Thomas",
    "Samuel",
    "Walter",
    "Ernest",
    "Harold",
    "Ahmed",
    "Ravi",
    "Chen",
    "Kwame",
    "Tomasz",
    "Lena",
    "Ingrid",
    "Søren",
    "Niamh",
    "Siobhán",
]
LAST = [
    "Clark",
    "Murphy",
    "Kelly",
    "Schneider",
    "Novak",
    "Okafor",
    "Dubois",
    "Müller",
    "García",
    "Rossi",
    "O'Brien",
    "Walsh",
    "Jenkins",
    "Patel",
    "Kowalski",
    "Lindqvist",
    "Brennan",
    "Hughes",
    "Morgan",
    "Evans",
    "Davies",
    "Byrne",
    "Nolan",
    "Fischer",
    "Bianchi",
    "Moreau",
    "Haddad",
    "Nakamura",
    "Mensah",
    "Petrov",
]
PLACES = [
    "Belfast",
    "Glasgow",
    "Sheffield",
    "Cardiff",
    "Lowell",
    "Pittsburgh",
    "Detroit",
    "Montréal",
    "Liverpool",
    "Dundee",
    "Bradford",
    "Swansea",
    "Cork",
    "Galway",
    "Leeds",
    "Manchester",
    "Birmingham",
    "Halifax",
    "Gdańsk",
    "Lyon",
]
PHRASES = (
    "the general strike",
    "civil rights movement",
    "the steel mill",
    "night shift",
    "the union hall",
    "picket line",
    "the cotton mill",
    "rent strike",
    "the shipyard closed",
    "we had nothing",
    "ration books",
    "the war ended",
)
COLLECTIONS = [
    ("labour-lives", "Labour Lives"),
    ("harbour-voices", "Harbour Voices"),
    ("mill-town", "Mill Town Memories"),
    ("migration", "Migration Stories"),
    ("wartime-homefront", "The Wartime Home Front"),
    ("civil-rights", "Civil Rights Voices"),
    ("rural-life", "Rural Life"),
    ("education", "Schools and Teachers"),
]
# (access level, weight); a few drafts and embargoes are mixed in separately.
LEVELS = [("open", 50), ("registered", 25), ("restricted", 18), ("closed", 7)]
DOC_TYPES = ["pamphlet", "letter", "article", "photograph", "minutes", "leaflet"]

SEGMENTS_PER_INTERVIEW = 1200
INDEX_POINTS_PER_INTERVIEW = 12
TAIL_WORDS = 24_000


def _invented_words(rng: random.Random, count: int) -> list[str]:
    """Pronounceable made-up words: the rare tail of a real transcript vocabulary."""
    onsets = [
        "b",
        "br",
        "c",
        "ch",
        "cr",
        "d",
        "dr",
        "f",
        "g",
        "gr",
        "h",
        "k",
        "l",
        "m",
        "n",
        "p",
        "pr",
        "r",
        "s",
        "st",
        "str",
        "t",
        "tr",
        "th",
        "v",
        "w",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ie"]
    codas = ["", "n", "r", "l", "s", "t", "nd", "ck", "ng", "rt", "st"]
    endings = ["", "", "s", "ed", "ing", "er", "ly"]
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 3))
        w = "".join(
            rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(syllables)
        ) + rng.choice(endings)
        if w not in seen and len(w) > 3:
            seen.add(w)
            words.append(w)
    return words


class _Vocabulary:
    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        tail = _invented_words(rng, TAIL_WORDS)
        topical = list(TOPICAL)
        rng.shuffle(topical)
        # Common words head the Zipf ranking; topical words sit in the upper-middle; the
        # invented tail is rare.
        self.words = list(dict.fromkeys(COMMON)) + topical + tail
        weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(self.words))]
        self.cum = list(itertools.accumulate(weights))


_VOCAB: dict[int, _Vocabulary] = {}


def _vocab(seed: int) -> _Vocabulary:
    if seed not in _VOCAB:
        _VOCAB[seed] = _Vocabulary(seed)
    return _VOCAB[seed]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def interview_meta(i: int, seed: int = SEED) -> dict:
    """The interview-level fields shared by every index document of interview ``i``."""
    rng = random.Random(f"{seed}:meta:{i}")
    year = rng.randint(1950, 2000)
    month = rng.randint(1, 12)
    slug, ctitle = COLLECTIONS[i % len(COLLECTIONS)]
    level = rng.choices([lv for lv, _ in LEVELS], [w for _, w in LEVELS])[0]
    status = "draft" if rng.random() < 0.05 else "published"
    embargo = 20400101 if rng.random() < 0.04 else 0
    narrator = _name(rng)
    interviewer = _name(rng)
    iid = i + 1
    return {
        "interview_id": iid,
        "accession": f"OH-{year}-{iid:04d}",
        "interview_title": f"{narrator} on {rng.choice(TOPICAL)} in {rng.choice(PLACES)}",
        "collection": slug,
        "collection_title": ctitle,
        "narrators": [narrator],
        "year": year,
        "date_recorded": f"{year}-{month:02d}",
        "language": "en",
        "access_level": level,
        "embargo_until": embargo,
        "status": status,
        "owner_id": 1 + iid % 7,
        "_interviewer": interviewer,
    }


def interview_docs(i: int, seed: int = SEED) -> list[dict]:
    """Every index document of interview ``i`` (0-based): catalogue, segments, index points."""
    vocab = _vocab(seed)
    rng = random.Random(f"{seed}:words:{i}")
    meta = interview_meta(i, seed)
    interviewer = meta.pop("_interviewer")
    narrator = meta["narrators"][0]
    iid = meta["interview_id"]
    place = rng.choice(PLACES)
    docs: list[dict] = [
        {
            **meta,
            "doc_id": f"int:{iid}",
            "kind": "interview",
            "title": meta["interview_title"],
            "summary": " ".join(rng.choices(vocab.words, cum_weights=vocab.cum, k=60)),
            "people": [narrator, interviewer, _name(rng)],
            "place": place,
        }
    ]
    lengths = [max(3, int(rng.gauss(12.5, 6))) for _ in range(SEGMENTS_PER_INTERVIEW)]
    words = rng.choices(vocab.words, cum_weights=vocab.cum, k=sum(lengths))
    t = 0
    pos = 0
    segment_texts = []
    for n, length in enumerate(lengths):
        seg = words[pos : pos + length]
        pos += length
        r = rng.random()
        if r < 0.04:
            seg.insert(rng.randrange(len(seg)), rng.choice(PHRASES))
        elif r < 0.06:
            seg.insert(rng.randrange(len(seg)), rng.choice(PLACES))
        elif r < 0.07:
            seg.insert(rng.randrange(len(seg)), _name(rng))
        text = " ".join(seg)
        text = text[0].upper() + text[1:] + "."
        segment_texts.append(text)
        duration = 350 * length + rng.randint(0, 2000)
        speaker = interviewer if n % 2 == 0 else narrator
        docs.append(
            {
                **meta,
                "doc_id": f"seg:{iid * 10_000 + n}",
                "kind": "segment",
                "segment_id": iid * 10_000 + n,
                "position": n,
                "start_ms": t,
                "end_ms": t + duration,
                "speaker": speaker,
                "text": text,
            }
        )
        t += duration + rng.randint(100, 900)
    step = SEGMENTS_PER_INTERVIEW // INDEX_POINTS_PER_INTERVIEW
    for k in range(INDEX_POINTS_PER_INTERVIEW):
        first = k * step
        docs.append(
            {
                **meta,
                "doc_id": f"idx:{iid}:{k}",
                "kind": "index",
                "start_ms": docs[1 + first]["start_ms"],
                "title": " ".join(rng.choices(TOPICAL, k=3)).capitalize(),
                "synopsis": " ".join(rng.choices(vocab.words, cum_weights=vocab.cum, k=30)),
                "keywords": rng.sample(TOPICAL, 4),
                "text": " ".join(segment_texts[first : first + 5]),
            }
        )
    return docs


def interviews(n: int, seed: int = SEED) -> Iterator[list[dict]]:
    for i in range(n):
        yield interview_docs(i, seed)


def documents(n: int, seed: int = SEED) -> Iterator[dict]:
    vocab = _vocab(seed)
    for d in range(n):
        rng = random.Random(f"{seed}:doc:{d}")
        did = d + 1
        yield {
            "doc_id": f"doc:{did}",
            "kind": "document",
            "document_id": did,
            "title": f"{rng.choice(DOC_TYPES).capitalize()}: "
            + " ".join(rng.choices(TOPICAL, k=3)),
            "creators": [_name(rng)],
            "description": " ".join(rng.choices(vocab.words, cum_weights=vocab.cum, k=40)),
            "text": " ".join(rng.choices(vocab.words, cum_weights=vocab.cum, k=800)),
            "year": rng.randint(1930, 2000),
            "doc_type": rng.choice(DOC_TYPES),
            "access_level": rng.choices(["open", "registered", "restricted"], [6, 3, 1])[0],
        }


def word_count(docs: list[dict]) -> int:
    """Words of transcript text (segments) in one interview's documents."""
    return sum(len(d["text"].split()) for d in docs if d["kind"] == "segment")


if __name__ == "__main__":
    docs = interview_docs(0)
    print(len(docs), "docs,", word_count(docs), "words in interview 1")
    for d in docs[:4]:
        print({k: v for k, v in d.items() if k in ("doc_id", "kind", "speaker", "text")})
