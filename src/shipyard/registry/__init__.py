"""Model registry: registered models, versions, aliases and model packages."""
