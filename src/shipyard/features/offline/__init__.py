"""The offline feature store's join engine: point-in-time joins over Arrow tables.

``sort_for_join`` lays a view's rows out once, when they are written; ``point_in_time_join``
attaches each view's features to entity rows as of their event times; ``latest_as_of`` gives
every entity's latest values at one moment. Time semantics: ``docs`` of the feature store.
"""

from ._time import NAT, normalise_timestamps
from .join import ViewFrame, latest_as_of, point_in_time_join, sort_for_join

__all__ = [
    "NAT",
    "ViewFrame",
    "latest_as_of",
    "normalise_timestamps",
    "point_in_time_join",
    "sort_for_join",
]
