"""Dependencies the routers share: the services behind the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shipyard.client import Services


def get_services(request: Request) -> Services:
    """The :class:`~shipyard.client.Services` the app was built with."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
