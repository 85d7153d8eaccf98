"""The command line's parser: argparse's, with a suggestion for a misspelt option, command or
choice (Python 3.11's argparse names the mistake only: ``unrecognized arguments: --datset``,
printed with the top-level usage, not the command's)."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Sequence
from typing import Any, NoReturn


def closest(word: str, known: Sequence[str]) -> str | None:
    """The known name nearest ``word``, or None where none is near."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return close[0] if close else None


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors suggest the nearest valid name; every subcommand's
    parser is one too (argparse makes a subparser of its parent's class)."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices and isinstance(value, str):
            near = closest(value, [str(choice) for choice in choices])
            if near is not None:
                listed = ", ".join(repr(str(choice)) for choice in choices)
                raise argparse.ArgumentError(
                    action, f"invalid choice: {value!r}; did you mean {near!r}? "
                            f"(choose from {listed})")
        super()._check_value(action, value)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            deepest(self, parsed).unrecognized(extras)
        return parsed

    def unrecognized(self, extras: list[str]) -> NoReturn:
        """Name the words not understood, with this (sub)command's usage and, for an option,
        the nearest of its options."""
        message = f"unrecognized arguments: {' '.join(extras)}"
        options = [name for name in self._option_string_actions if name.startswith("--")]
        for word in extras:
            if word.startswith("--"):
                near = closest(word.split("=", 1)[0], options)
                if near is not None:
                    message += f"; did you mean {near}? (see {self.prog} --help)"
                    break
        self.error(message)


def deepest(parser: argparse.ArgumentParser, parsed: argparse.Namespace) -> Parser:
    """The parser of the (sub)command that was run: ``rnnkit train tagger``'s for
    ``rnnkit train tagger --datset x``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(parsed, action.dest, None)
            chosen = action.choices.get(name) if isinstance(name, str) else None
            if chosen is not None:
                return deepest(chosen, parsed)
    assert isinstance(parser, Parser)
    return parser
