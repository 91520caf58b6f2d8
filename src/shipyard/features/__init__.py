"""Feature store: entities, feature views, offline point-in-time joins and online lookups."""
