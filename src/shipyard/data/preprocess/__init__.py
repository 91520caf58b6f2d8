"""Preprocessing that cannot skew: steps fitted with the model and saved inside its package.

Declare the steps in Python or YAML; :class:`Preprocessor` is one scikit-learn transformer, so
put it in a ``Pipeline`` with the model and the registry saves both together (the step types
are trusted by the safe loader). Every step is row-wise at transform time, so a single row at
the model server gets exactly what the same row gets in a batch. See ``docs/preprocessing.md``.
"""

from shipyard.data.preprocess._expr import FUNCTIONS, Expression, parse_expression
from shipyard.data.preprocess.derive import DateParts, Derive
from shipyard.data.preprocess.encode import OneHot, Ordinal
from shipyard.data.preprocess.numeric import Impute, Outliers, Scale
from shipyard.data.preprocess.pipeline import Preprocessor, step_types

__all__ = [
    "FUNCTIONS",
    "DateParts",
    "Derive",
    "Expression",
    "Impute",
    "OneHot",
    "Ordinal",
    "Outliers",
    "Preprocessor",
    "Scale",
    "parse_expression",
    "step_types",
]
