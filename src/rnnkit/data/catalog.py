"""The datasets rnnkit knows: official source, files, splits, license and SHA-256 of each.

Every entry is one ``register(...)`` call; ``rnnkit datasets list`` shows them.
"""

from __future__ import annotations

from rnnkit.data.registry import DatasetFile, DatasetSpec, register

_UD = "https://raw.githubusercontent.com/UniversalDependencies/UD_English-EWT/15d613d"
register(DatasetSpec(
    name="ud_english_ewt",
    description="Universal Dependencies English Web Treebank: POS tagging (UPOS 17, XPOS)",
    task="tagging", format="conllu", license="CC BY-SA 4.0",
    homepage="https://github.com/UniversalDependencies/UD_English-EWT",
    mirror_dir="ud_english_ewt",
    files=(
        DatasetFile("train", "en_ewt-ud-train.conllu", f"{_UD}/en_ewt-ud-train.conllu",
                    "3fb78e2b55482c8ee00caa653af436c88c9e5bc9a73ce26e4ae3ddc79d2b7e7b"),
        DatasetFile("dev", "en_ewt-ud-dev.conllu", f"{_UD}/en_ewt-ud-dev.conllu",
                    "531a54ff90d6ab12201c5a50c3e78e6ddac4de69abc4bce5d275d3cd29efe2b6"),
        DatasetFile("test", "en_ewt-ud-test.conllu", f"{_UD}/en_ewt-ud-test.conllu",
                    "e266e515a0a7547657ed3d90d9ba46487d6bd251f27ad4269d4e8a427c8555cd"),
    ),
    reader_options={"column": "upos"},
))

_UNER = "https://raw.githubusercontent.com/UniversalNER/UNER_English-EWT/8ed072d"
register(DatasetSpec(
    name="uner_english_ewt",
    description="Universal NER on the English Web Treebank: PER, LOC, ORG "
                "(train: cleaned pre-release annotation)",
    task="tagging", format="iob", license="CC BY-SA 4.0",
    homepage="https://github.com/UniversalNER/UNER_English-EWT",
    mirror_dir="uner_english_ewt",
    files=(
        # Upstream has only the raw pre-release (OTH and B-O tags); this cleaned file is made
        # from it, so it comes from a mirror only.
        DatasetFile("train", "en_ewt-ud-train.PRERELEASE-cleaned.iob2", "",
                    "8e6fce55c1ec957a1177a41a3d48d05c765906317c330e802137939c044a6a1b"),
        DatasetFile("dev", "en_ewt-ud-dev.iob2", f"{_UNER}/en_ewt-ud-dev.iob2",
                    "0cafd881cf31d39897b6d588420fab8fbbe4423d271725c59921ac9dd49c0713"),
        DatasetFile("test", "en_ewt-ud-test.iob2", f"{_UNER}/en_ewt-ud-test.iob2",
                    "821ad826d5f503ac03b4edc3fbc2174f21fbb005ec25863caf2051c434616d6e"),
    ),
    reader_options={"token_column": 2, "tag_column": 3, "comment_prefix": "#"},
))

_WNUT = "https://raw.githubusercontent.com/leondz/emerging_entities_17/master"
register(DatasetSpec(
    name="wnut17",
    description="WNUT-17 emerging entities in noisy user text: 6 types",
    task="tagging", format="iob", license="CC BY 4.0",
    homepage="https://github.com/leondz/emerging_entities_17",
    mirror_dir="wnut17",
    files=(
        DatasetFile("train", "wnut17train.conll", f"{_WNUT}/wnut17train.conll",
                    "731820e13f71af324c6b55a1575ec2ce59fbaa2a0806f8f0400b98d56cd6a7a5"),
        DatasetFile("dev", "emerging.dev.conll", f"{_WNUT}/emerging.dev.conll",
                    "e053b752b8155113ca66e7db08af5f2f5f43ab993694e4774f1ec5bad42312d8"),
        DatasetFile("test", "emerging.test.annotated", f"{_WNUT}/emerging.test.annotated",
                    "2aa79b764e56ec9264a1b30fdd9b70195bd00ff400b62edd8f399d5f13c178f0"),
    ),
    # no comments: tweets hold hashtag tokens such as "#NFL<TAB>O"
    reader_options={"token_column": 1, "tag_column": 2, "comment_prefix": None},
))

register(DatasetSpec(
    name="beijing_pm25",
    description="Beijing PM2.5 (US embassy) and weather (airport), hourly 2010-2014: 43,824 rows",
    task="forecasting", format="csv", license="CC BY 4.0",
    homepage="https://archive.ics.uci.edu/dataset/381/beijing+pm2+5+data",
    mirror_dir="beijing_pm25",
    files=(DatasetFile("all", "pollution.csv",
                       "https://archive.ics.uci.edu/static/public/381/beijing+pm2+5+data.zip",
                       "892e9559205d16d32623135c127a3951c12e46ea1e0b3093e107ce89a9fd60e2",
                       member="PRSA_data_2010.1.1-2014.12.31.csv"),),
    reader_options={"frequency": "h", "categorical": ["cbwd"], "missing": ["pm2.5"]},
))

_M30K = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw"
_M30K_FILES = (  # split, file stem, {language: sha256 of the unpacked file}
    ("train", "train", {
        "cs": "2be68b38c8d586ff4f54eb13cc6e1baaaa053695b3f070d3038303a47f2268da",
        "de": "2c2b73fd2b548fbcde3a875e0a78d6ee94d498bfdee6bd3eae3945779e9ddf72",
        "en": "460a15fbd157e34a7a9957ee388c1ca247fe47af3ef25fb50442af6c274e0fc6",
        "fr": "5925a3c18f1587b6b54b87743106e6e8ab93618edb6f65d19eac0621f853a10d"}),
    ("dev", "val", {
        "cs": "d53827e469b0a1ca8d57e9e26b2b64c4bc4b33f5479c7b03ae87ae5c882c3e33",
        "de": "660e09eb7e1da2f856ea13ee5ad3cf6d36b3d5b0b733c857e94c5747a3dfc660",
        "en": "1f2a23d992769b5b3d209b0a10dd0b77c08cceb1f20dfb97ed0aafa49d107227",
        "fr": "5304e444d842e962b2dda4d816b70b22a1765b15401642b7ca37a67477e708dc"}),
    ("test", "test_2016_flickr", {
        "cs": "45adb85f688de8407fddcbe1b36dca15d12aab868149b337e2576f2d6d2ff8d8",
        "de": "4be6b5b3236b79c25475c6bb829800a7ce559e9ba7a1f6c2394fe4d40be46d16",
        "en": "399a4382932c1aadd3ceb9bef1008d388a64c76d4ae4e9d4728c6f4301cac182",
        "fr": "cb3160d69b002bb638e66cc7612fcd56cb0af82eadc9c142dedc438afb885ef6"}),
    ("test_2017_flickr", "test_2017_flickr", {
        "de": "c3078bc3b36808bf9d20eb2347ed6137016179ef59ec0d2b9b8ecc3fb2880081",
        "en": "ce1450ddc5ab0834502579d77a170849952e15a2938b34cc503bdc25ebb4fb98",
        "fr": "6f3764e31dac41e9455e612958bcfd4e877c5e15cd66df2c2b2be6d9bd83e5b6"}),
    ("test_2017_mscoco", "test_2017_mscoco", {
        "de": "58277df3c75f92f7145a11b910b553d1cf82c439249d4dc237c899609eafac22",
        "en": "43051fdfa86fd5395182e718a94ca67b1b227b9f7c79596ff0f6b813216981d2",
        "fr": "39cde3f43f32b0a6bf29ce4917a46329ff32e53070c2fac87506695a740ae0a0"}),
    ("test_2018_flickr", "test_2018_flickr", {
        "cs": "1db59fe6980c9b3f9bade65122a985e71150214837d76f4768a5a8384c0b2dc7",
        "de": "39fcc8b3331d76fb42d648d019c6898b0d5e58baac87bc2a0bb93f44ec8db207",
        "en": "4e585c2dd525911a6ea7730e9d0b516239af3f1b1ffae6a2130223cfb639f25e",
        "fr": "234b4a887da0da4801a3e2c6f21336231ff7dd46daeb80cfa1b551c8bbb78239"}),
)
register(DatasetSpec(
    name="multi30k",
    description="Multi30k task 1: image captions in en, de, fr, cs, line-aligned (raw, cased)",
    task="translation", format="parallel", license="research, non-commercial",
    homepage="https://github.com/multi30k/dataset",
    mirror_dir="multi30k",
    files=tuple(
        DatasetFile(split, f"{stem}.{language}", f"{_M30K}/{stem}.{language}.gz", sha256)
        for split, stem, checksums in _M30K_FILES for language, sha256 in checksums.items()
    ),
    # one file per language in every split; pairs are any two languages a split has
    reader_options={"languages": ["cs", "de", "en", "fr"]},
))

register(DatasetSpec(
    name="tinyshakespeare",
    description="tiny-shakespeare: 1,115,394 characters of Shakespeare's plays (char-rnn)",
    task="language_model", format="text", license="public domain",
    homepage="https://github.com/karpathy/char-rnn",
    mirror_dir="tinyshakespeare",
    files=(DatasetFile(
        "all", "input.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),),
    reader_options={"validation_fraction": 0.1},  # the usual split: the last 10% validates
))

_SST = "https://nlp.stanford.edu/sentiment/trainDevTestTrees_PTB.zip"
register(DatasetSpec(
    name="sst",
    description="Stanford Sentiment Treebank: PTB trees labelled 0-4 on every node (SST-5, SST-2)",
    task="classification", format="sst", license="research use",
    homepage="https://nlp.stanford.edu/sentiment/",
    mirror_dir="sst",
    files=(
        DatasetFile("train", "train.txt", _SST,
                    "e2f3f41b0b1e6d4dddc0effe3bfc2d27ed8928079aa9a03d652311614fc5feb7",
                    member="trees/train.txt"),
        DatasetFile("dev", "dev.txt", _SST,
                    "0e9336aed6e4730e19f58d00a77b3f0297efdb755f7b5e598c98a05e3f97ea40",
                    member="trees/dev.txt"),
        DatasetFile("test", "test.txt", _SST,
                    "6e54806dee95cf80cd918e7dfb3f6770f6df24bf826f289a4d1f709e1c8f6761",
                    member="trees/test.txt"),
    ),
    reader_options={"labels": "sst5"},  # sst2: drop neutral roots, 0-1 negative, 3-4 positive
))

register(DatasetSpec(
    name="imdb",
    description="IMDB Large Movie Review Dataset v1.0: 25,000 / 25,000 reviews, binary sentiment",
    task="classification", format="jsonl", license="research use",
    homepage="https://ai.stanford.edu/~amaas/data/sentiment/",
    mirror_dir="imdb",
    files=(
        # converted from aclImdb_v1.tar.gz (one file per review) to JSON lines: mirror only
        DatasetFile("train", "train.jsonl.gz", "",
                    "16678667b79c523331aa3eaf014ebe88510d0a561ffa07ad1625c59ebb9336e0"),
        DatasetFile("test", "test.jsonl.gz", "",
                    "82e82eeddd7a4702326c9eb74faa2c380962f0c38df26baadc290608ac0422ab"),
    ),
    reader_options={"text_field": "text", "label_field": "label",
                    "label_names": {"0": "negative", "1": "positive"}},
))
