"""Model packages: a model saved to a self-describing, checksummed folder and loaded back safely.

See :mod:`shipyard.registry.package.model` for what a package folder holds. Importing this
package is cheap: pandas, scikit-learn and skops load only when a model is saved or loaded.
"""

from __future__ import annotations

from shipyard.registry.package._format import ModelInfo
from shipyard.registry.package.manifest import verify_manifest, write_manifest
from shipyard.registry.package.model import LoadedModel, load_model, save_model
from shipyard.registry.package.python_flavor import PythonModel
from shipyard.registry.package.requirements import pinned_requirements
from shipyard.registry.package.signature import (
    ColumnSpec,
    Signature,
    TensorSpec,
    compatible,
    infer_signature,
)

__all__ = [
    "ColumnSpec",
    "LoadedModel",
    "ModelInfo",
    "PythonModel",
    "Signature",
    "TensorSpec",
    "compatible",
    "infer_signature",
    "load_model",
    "pinned_requirements",
    "save_model",
    "verify_manifest",
    "write_manifest",
]
