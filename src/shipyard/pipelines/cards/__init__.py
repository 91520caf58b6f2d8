"""Model cards: a generated page per model version (Markdown and self-contained HTML)."""

from shipyard.pipelines.cards.card import ModelCard

__all__ = ["ModelCard"]
