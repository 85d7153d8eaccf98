"""``rnnkit train seq2seq``, ``rnnkit translate``, and evaluate for translation bundles."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

from rnnkit.commands.common import (
    EVALUATORS,
    add_config_options,
    add_data_flags,
    check_file,
    print_json,
    registry_names,
    resolve_config,
)
from rnnkit.commands.inputs import check_translation_inputs
from rnnkit.commands.paths import (
    check_not_input,
    check_output_apart,
    check_output_file,
    make_parent,
    read_text_input,
)
from rnnkit.config import ConfigError, check_at_least
from rnnkit.data.parallel import one_file_of_a_pair, read_lines

DATA_FLAGS = ("dataset", "src", "tgt", "train", "dev", "test", "data_dir")


def register(commands: Any, train_tasks: Any) -> None:
    parser = train_tasks.add_parser(
        "seq2seq", help="encoder-decoder translation (attention, beam search), Multi30k"
    )
    parser.add_argument("--dataset", help="a registry dataset (default multi30k)")
    parser.add_argument("--src", help="source language (default de)")
    parser.add_argument("--tgt", help="target language (default en)")
    parser.add_argument("--train", help="training file prefix: reads PREFIX.SRC and PREFIX.TGT")
    parser.add_argument("--dev", help="development file prefix")
    parser.add_argument("--test", help="test file prefix")
    parser.add_argument("--data-dir", help="local mirror of the datasets (or set RNNKIT_DATA)")
    add_config_options(parser)
    parser.set_defaults(handler=train)

    translate = commands.add_parser("translate", help="translate lines with a seq2seq bundle")
    translate.add_argument("--model", type=Path, required=True, help="a seq2seq .rnnkit bundle")
    translate.add_argument("--input", help="a file of lines ('-' or nothing: standard input)")
    translate.add_argument("--output", type=Path, help="where to write (default: standard output)")
    translate.add_argument("--beam-size", type=int, help="1 = greedy (default: the model's)")
    translate.add_argument("--length-penalty", type=float, help="GNMT alpha (default: model's)")
    translate.add_argument("--n-best", type=int, default=1,
                           help="write the N best translations of each line, tab-separated"
                                " with their scores, a blank line between inputs (default 1:"
                                " the best alone, without its score)")
    translate.add_argument("--attention-plot", type=Path,
                           help="save the attention heat map of the first input line's best"
                                " translation here (a .png, .pdf or .svg file; the other"
                                " lines and --n-best's other translations are not drawn)")
    translate.add_argument("--reference",
                           help="with --attention-plot: plot the attention while the model"
                                " reads this translation of the first line, not its own")
    translate.set_defaults(handler=translate_command)
    EVALUATORS["seq2seq"] = evaluate


def train(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.seq2seq import Seq2SeqRunConfig, check_run, train_seq2seq

    add_data_flags(args, DATA_FLAGS)
    config = resolve_config(Seq2SeqRunConfig, args, check_run, check_translation_inputs)
    if config is None:
        return 0
    data = config.data
    name = f"{data.dataset or Path(data.train).name}-{data.src}-{data.tgt}"
    results = train_seq2seq(config, args.out or Path("runs") / f"seq2seq-{name}", args.resume)
    shown = {k: {m: v[m] for m in ("bleu", "chrf", "bleu_signature")}
             for k, v in results["test"].items()}
    print_json({"test": shown, "train_seconds": results["train_seconds"]}, indent=2)
    return 0


def translate_command(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.translation import has_subwords, load_translator

    _check_flags(args)
    check_output_apart(args.output, {"--input": args.input, "--model": str(args.model)})
    for flag, given in (("--input", args.input), ("--model", str(args.model)),
                        ("--output", str(args.output or ""))):  # the heat map is written last
        check_not_input(args.attention_plot, given, flag, "--attention-plot", "attention.png")
    model = load_translator(args.model)
    check_decoding(model, args.beam_size, args.n_best)
    if args.attention_plot is not None and model.decoder.attention is None:
        raise ValueError("this model has no attention (seq2seq.attention = none): no heat "
                         "map")  # before translating a whole file for nothing
    lines = _read_lines(args.input)
    if args.attention_plot is not None and (not lines or not has_subwords(model, lines[0])):
        invisible = " (only characters that the tokenizer removes, such as zero-width spaces)"
        raise ValueError("--attention-plot draws the first input line, which is empty"
                         f"{invisible if lines and lines[0].strip() else ''}; put the sentence"
                         " to draw first")
    found = translations(model, lines, args.beam_size, args.length_penalty, args.n_best)
    if args.n_best > 1:
        blocks = ["\n".join(f"{text}\t{score:.4f}" for text, score in texts)
                  for texts in decoded(model, found)]
        text = "\n\n".join(blocks) + "\n" if blocks else ""  # no input lines: no output
    else:
        text = "".join(texts[0][0] + "\n" for texts in decoded(model, found))
    if args.output is None:
        sys.stdout.write(text)
    else:
        from rnnkit.training.checkpoint import write_output_text

        make_parent(args.output)
        write_output_text(args.output, text)  # never half a file, even after a Ctrl-C
    if args.attention_plot is not None:
        from rnnkit.pipelines.run import drawing

        with warnings.catch_warnings():  # an unseen character of --reference: one line
            warnings.simplefilter("always")
            # the first line read again for its heat map: its warnings (a line cut short,
            # unseen characters) were given when it was translated
            warnings.filterwarnings("ignore", message=r"line 1( has|:) ")
            with drawing(args.attention_plot):  # a failure: a warning, the translations kept
                _plot_first(model, lines, found, args.attention_plot, args.reference)
    return 0


def translations(model: Any, lines: list[str], beam_size: int | None,
                 length_penalty: float | None, n_best: int) -> list[Any]:
    """The ``n_best`` hypotheses of each line, each line's warning given (not once only)."""
    from rnnkit.pipelines.translation import translate_lines

    with warnings.catch_warnings():  # each line's warning (cli.main prints it in one line)
        warnings.simplefilter("always")
        return translate_lines(model, lines, beam_size, length_penalty, n_best)


def decoded(model: Any, found: list[Any]) -> list[list[tuple[str, float]]]:
    """Each line's hypotheses as text with their scores, as ``rnnkit translate`` writes them."""
    decode = model.target_tokenizer.decode
    return [[(decode(h.tokens), h.score) for h in hypotheses] for hypotheses in found]


def check_decoding_flags(beam_size: int | None, n_best: int,
                         length_penalty: float | None) -> None:
    """Refuse ``--beam-size``, ``--n-best`` and ``--length-penalty`` out of range."""
    if beam_size is not None:
        check_at_least(beam_size, "--beam-size", 1)
    check_at_least(n_best, "--n-best", 1)
    if length_penalty is not None:
        check_at_least(length_penalty, "--length-penalty", 0)


def check_decoding(model: Any, beam_size: int | None, n_best: int) -> None:
    """Refuse a ``--n-best`` above the beam, and a ``--beam-size`` above the model's target
    vocabulary."""
    from rnnkit.models.beam_search import check_beam_width

    _check_n_best(n_best, beam_size or model.config.beam_size)
    if beam_size is not None:
        check_beam_width(beam_size, len(model.target_tokenizer), "--beam-size")


def _check_flags(args: argparse.Namespace) -> None:
    """Refuse the flags that decoding would read only after the model is loaded."""
    check_decoding_flags(args.beam_size, args.n_best, args.length_penalty)
    if args.attention_plot is not None and args.attention_plot.suffix.lower() not in (
            ".png", ".pdf", ".svg"):
        raise ConfigError(f"--attention-plot {args.attention_plot}: name a .png, .pdf or .svg "
                          "file (the heat map is an image)")
    check_output_file(args.attention_plot, "--attention-plot", "attention.png")
    if args.reference is not None and args.attention_plot is None:
        raise ConfigError("--reference only sets the translation that the --attention-plot "
                          "heat map is drawn for; it does not change the translations. Add "
                          "--attention-plot PATH, or leave --reference out")
    if args.reference is not None and not args.reference.strip():
        raise ConfigError("--reference is empty: give the translation of the first line to "
                          "draw the heat map for, or leave --reference out to draw the "
                          "model's own translation")
    if args.input not in (None, "-"):
        check_file(args.input, "--input")


def _read_lines(path: str | None) -> list[str]:
    """One sentence per line, split at ``\n`` only, as training read its files."""
    if path is None or path == "-":
        from rnnkit.data.tagged import text_lines

        # old Mac (CR) lines, all read as one line, are refused
        lines = text_lines(read_text_input(path), "standard input")
        return lines[:-1] if lines and not lines[-1] else lines
    return read_lines(path)


def _check_n_best(n_best: int, beam: int) -> None:
    if n_best > beam:
        raise ConfigError(f"--n-best {n_best} is more than the beam size {beam} (--beam-size, "
                          "else the model's): raise --beam-size or lower --n-best")


def _plot_first(model: Any, lines: list[str], found: list[Any], path: Path,
                reference: str | None) -> None:
    from rnnkit.pipelines.translation import forced_attention, source_ids
    from rnnkit.viz.attention import plot_attention

    # translate_command refused a model without attention and a first line without subwords
    if reference is not None:
        weights, tokens = forced_attention(model, lines[0], reference)
    else:
        weights, tokens = found[0][0].attention, found[0][0].tokens
    assert weights is not None
    source = model.source_tokenizer.pieces(source_ids(model, lines[0]))
    ended = weights.shape[0] > len(tokens)  # a row for the end marker too
    target = model.target_tokenizer.pieces(tokens) + (["</s>"] if ended else [])
    plot_attention(weights, source, target, path)
    drawn = "--reference" if reference is not None else "its best translation"
    print(f"wrote {path}: the attention of the first line and {drawn}", file=sys.stderr)


def evaluate(args: argparse.Namespace) -> int:
    from rnnkit.pipelines.seq2seq import TranslationDataConfig, read_split
    from rnnkit.pipelines.translation import load_translator
    from rnnkit.pipelines.translation_scoring import score_lines
    from rnnkit.training.translation_metrics import bleu_metric

    model = load_translator(args.model)
    src, tgt = model.data.get("src", ""), model.data.get("tgt", "")
    bleu_metric(tgt)  # its tokenizer installed (MeCab for ja, ko), before translating
    if args.data and Path(f"{args.data}.{src}").is_file():
        data = TranslationDataConfig(dataset="", src=src, tgt=tgt, test=args.data)
        split = "test"
    else:
        dataset = _registry_dataset(args.data or model.data.get("dataset") or "", src, tgt)
        data = TranslationDataConfig(dataset=dataset, src=src, tgt=tgt,
                                     data_dir=args.data_dir or "")
        split = args.split
    sources, references, files = read_split(data, split)
    beam = model.config.beam_size
    with warnings.catch_warnings():  # unseen characters, long lines: one line each, as translate
        warnings.simplefilter("always")
        result = score_lines(model, sources, references, beam, args.out, split,
                             str(files[0]))
    decoding = (f"beam search (beam {beam}, length penalty {model.config.length_penalty})"
                if beam > 1 else "greedy")
    print(f"{len(sources)} sentences, {data.src}->{data.tgt}, {decoding}: the model's"
          " seq2seq.beam_size and length_penalty, as its training run's test 'beam' scores")
    print(result["bleu_detail"])
    print(f"chrF2 = {result['chrf']:.2f}")
    print(f"BLEU signature: {result['bleu_signature']}")
    print(f"chrF signature: {result['chrf_signature']}")
    return 0


def _registry_dataset(name: str, src: str, tgt: str) -> str:
    """``--data`` (or the model's dataset) when it is a registry translation dataset; else an
    error that names both things ``--data`` can be."""
    known = registry_names("translation")
    if name in known:
        return name
    prefix = f"a file prefix (reads PREFIX.{src} and PREFIX.{tgt})"
    dataset = f"a translation dataset ({', '.join(known)})"
    if not name:
        raise ConfigError(f"this model was trained from files: give --data, {prefix} or "
                          f"{dataset}")
    one_file_of_a_pair(name, src, tgt, "--data")
    raise ConfigError(f"--data {name!r} is neither {prefix} nor {dataset}: {name}.{src} does "
                      "not exist")
