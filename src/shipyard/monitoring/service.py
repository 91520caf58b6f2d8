"""The monitoring store interface: feedback labels, check history, alerts and retrainings.

``SqlMonitoring`` (``shipyard.monitoring.sql``) keeps them in the metadata database and checks
labels against the local prediction log; ``HttpMonitoring`` (``shipyard.client.http``) sends
them to a team server, which checks labels against its own log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from shipyard.monitoring.entities import Alert, Check, Delivery, FeedbackReceipt, Retraining

if TYPE_CHECKING:
    from shipyard.artifacts.service import ArtifactService
    from shipyard.config import Settings
    from shipyard.data.datasets.service import DatasetCatalog
    from shipyard.registry.service import RegistryService
    from shipyard.tracking.service import TrackingService


class MonitoringStore(Protocol):
    def record_feedback(
        self,
        model: str,
        labels: pa.Table,
        *,
        keys: Sequence[str] = (),
        allow_unknown: bool = False,
    ) -> FeedbackReceipt:
        """Store labels (``prediction_id, label``, or ``<keys>, ts, label`` to match by entity
        key and time). All or nothing unless ``allow_unknown``. Raises InvalidArgument listing
        the labels that match no logged prediction."""
        ...

    def feedback(self, model: str) -> pa.Table:
        """Every stored label of ``model``: ``prediction_id, label_text, label_number,
        received_at``."""
        ...

    def record_check(
        self,
        *,
        monitor: str,
        model: str,
        version: int | None,
        status: str,
        window: tuple[int | None, int | None],
        rows: int,
        labelled: int,
        metrics: Mapping[str, float | None],
        details: Mapping[str, Any],
        report: str,
        started_at: int,
    ) -> Check:
        """Store one check's results."""
        ...

    def list_checks(
        self, *, monitor: str | None = None, model: str | None = None, limit: int = 100
    ) -> list[Check]:
        """Checks, newest first."""
        ...

    def get_check(self, check_id: int) -> Check:
        """One check. Raises NotFound."""
        ...

    def record_alert(
        self,
        *,
        monitor: str,
        check_id: int | None,
        rule: str,
        metric: str,
        value: float | None,
        threshold: float,
        state: str,
        message: str,
        deliveries: Sequence[Delivery],
    ) -> Alert:
        """Store an alert and what its channels did with it."""
        ...

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        rule: str | None = None,
        state: str | None = None,
        since: int | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Alerts, newest first; ``state`` (sent, suppressed, failed) and ``since`` (epoch ms,
        created at or after) narrow them."""
        ...

    def record_retraining(
        self,
        *,
        monitor: str,
        model: str,
        trigger: str,
        outcome: str,
        champion: int | None,
        challenger: int | None,
        steps: Sequence[Mapping[str, Any]],
    ) -> Retraining:
        """Store one run of a retraining policy with every step and its reason."""
        ...

    def list_retrainings(self, *, model: str | None = None, limit: int = 100) -> list[Retraining]:
        """Retrainings, newest first."""
        ...


class MonitorServices(Protocol):
    """What running a monitor needs of :class:`shipyard.client.Services` (which satisfies it)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def tracking(self) -> TrackingService: ...

    @property
    def registry(self) -> RegistryService: ...

    @property
    def datasets(self) -> DatasetCatalog: ...

    @property
    def artifacts(self) -> ArtifactService: ...

    @property
    def monitoring(self) -> MonitoringStore: ...
