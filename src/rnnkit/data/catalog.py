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
