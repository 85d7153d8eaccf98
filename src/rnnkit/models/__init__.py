"""Task models: embeddings or inputs -> recurrent encoder -> head. Importing registers them."""

from rnnkit.models.synthetic import SyntheticTaskModel

__all__ = ["SyntheticTaskModel"]
