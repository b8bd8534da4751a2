"""SQLAlchemy 2.0 typed models of every Driftline table."""

from __future__ import annotations

from storage.models.alerting import (
    Alert,
    AlertEvent,
    AlertRule,
    Channel,
    Delivery,
    DeliveryAttempt,
    NotificationLog,
    Silence,
)
from storage.models.auth import ApiToken
from storage.models.base import NAMING_CONVENTION, Base
from storage.models.monitoring import Monitor, MonitorResult
from storage.models.online import OnlineEvent, OnlineExample, OnlineSnapshot, OnlineUpdate
from storage.models.records import GroundTruthLabel, PredictionRecord
from storage.models.registry import FeatureCategory, Model, ModelVersion, ReferenceDataset

__all__ = [
    "NAMING_CONVENTION",
    "Alert",
    "AlertEvent",
    "AlertRule",
    "ApiToken",
    "Base",
    "Channel",
    "Delivery",
    "DeliveryAttempt",
    "FeatureCategory",
    "GroundTruthLabel",
    "Model",
    "ModelVersion",
    "Monitor",
    "MonitorResult",
    "NotificationLog",
    "OnlineEvent",
    "OnlineExample",
    "OnlineSnapshot",
    "OnlineUpdate",
    "PredictionRecord",
    "ReferenceDataset",
    "Silence",
]
