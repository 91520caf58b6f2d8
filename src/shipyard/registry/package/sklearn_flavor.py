"""The ``sklearn`` flavor: fitted scikit-learn estimators and Pipelines.

Saved with skops (``model.skops``), which stores the object tree as data and rebuilds it
without running pickle; ``model.pkl`` only when the caller asks for ``serialization="pickle"``.

Loading a skops file first lists the types it would create
(:func:`skops.io.get_untrusted_types`). Classes from scikit-learn, numpy, scipy and pandas and
a few plain standard-library types load without asking; anything else (a custom transformer, a
function such as ``numpy.clip`` given to a ``FunctionTransformer``, a third-party estimator) must
be named in ``trusted`` or the load is refused with :class:`~shipyard.errors.UnsafeModelError`.
Only classes are trusted by library, never functions: a function reference can do anything when
the model calls it (``numpy.save``), a class is only rebuilt from its stored state. Shipyard's own
preprocessing steps (classes defined under ``shipyard.data.preprocess``) are trusted too, so a
Pipeline with a :class:`~shipyard.data.preprocess.Preprocessor` loads without ``trusted=``.
"""

from __future__ import annotations

import importlib
import io
import pickle
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.errors import InvalidArgument, UnsafeModelError
from shipyard.registry.package._format import FlavorFiles, ModelInfo
from shipyard.registry.package.manifest import Manifest, read_verified

FLAVOR = "sklearn"
MODEL_FILES = {"skops": "model.skops", "pickle": "model.pkl"}
TRUSTED_LIBRARIES = ("sklearn", "numpy", "scipy", "pandas")
TRUSTED_SHIPYARD_PREFIX = "shipyard.data.preprocess."
TRUSTED_STDLIB = frozenset(
    {
        *(f"builtins.{t}" for t in ("bool", "bytes", "complex", "dict", "float", "frozenset")),
        *(f"builtins.{t}" for t in ("int", "list", "set", "slice", "str", "tuple")),
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "datetime.date",
        "datetime.datetime",
        "datetime.timedelta",
        "functools.partial",
    }
)


def is_model(obj: object) -> bool:
    """True for a scikit-learn estimator (anything deriving from ``BaseEstimator``)."""
    from sklearn.base import BaseEstimator

    return isinstance(obj, BaseEstimator)


def check_fitted(model: Any) -> None:
    """Raise InvalidArgument when ``model`` has not been fitted."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise InvalidArgument(
            f"{type(model).__name__} is not fitted; call fit() before saving it ({exc})"
        ) from exc


def save(model: Any, folder: Path, *, serialization: str) -> FlavorFiles:
    """Write the fitted ``model`` into ``folder``. Raises InvalidArgument."""
    check_fitted(model)
    name = MODEL_FILES[serialization]
    if serialization == "skops":
        import skops.io

        skops.io.dump(model, folder / name)
    else:
        with (folder / name).open("wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return FlavorFiles(
        files=(name,),
        serialization=serialization,
        config={"model_file": name},
        requirements=requirements(serialization),
    )


def requirements(serialization: str) -> tuple[str, ...]:
    """Distributions a saved model needs at load time."""
    base = ("scikit-learn", "numpy", "scipy")
    return (*base, "skops") if serialization == "skops" else base


def load(
    folder: Path,
    info: ModelInfo,
    manifest: Manifest,
    *,
    allow_pickle: bool,
    trusted: Sequence[str],
) -> Any:
    """Rebuild the estimator of a verified package. Raises UnsafeModelError, IntegrityError."""
    name = str(info.flavor_config.get("model_file", MODEL_FILES.get(info.serialization, "")))
    if info.serialization == "pickle":
        if not allow_pickle:
            raise UnsafeModelError(
                f"model package {folder} is a pickle ({name}); unpickling runs arbitrary code. "
                "Load it only if you trust who made it, with load_model(path, allow_pickle=True)"
            )
        return pickle.loads(read_verified(folder, name, manifest))
    if info.serialization != "skops":
        raise InvalidArgument(f"unknown serialization {info.serialization!r} in {folder}")
    return _load_skops(folder, name, read_verified(folder, name, manifest), trusted)


def _load_skops(folder: Path, name: str, data: bytes, trusted: Sequence[str]) -> Any:
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=data)
    refused = refused_types(untrusted, trusted)
    if refused:
        raise UnsafeModelError(
            f"{name} of model package {folder} holds types that are not trusted by default: "
            f"{', '.join(refused)}. Building them may run their code. If you trust this "
            f"package, load it with load_model(path, trusted={refused!r})"
        )
    return skops.io.load(io.BytesIO(data), trusted=list(untrusted))


def refused_types(untrusted: Sequence[str], trusted: Sequence[str]) -> list[str]:
    """The names in ``untrusted`` that are neither trusted by default nor in ``trusted``."""
    allowed = set(trusted)
    return [t for t in untrusted if t not in allowed and not _trusted_by_default(t)]


def _trusted_by_default(name: str) -> bool:
    if name in TRUSTED_STDLIB:
        return True
    if name.startswith(TRUSTED_SHIPYARD_PREFIX):
        obj = _resolve(name)  # only classes defined there, not names they import
        return isinstance(obj, type) and obj.__module__.startswith(TRUSTED_SHIPYARD_PREFIX)
    if name.split(".", 1)[0] not in TRUSTED_LIBRARIES:
        return False
    return isinstance(_resolve(name), type)


def _resolve(name: str) -> object:
    """The object ``name`` (``pkg.module.Class``) refers to, or None. Only for trusted roots."""
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        except Exception:  # a module that fails to import is not one we trust
            return None
        for attr in parts[split:]:
            obj = getattr(obj, attr, None)
        return obj
    return None
