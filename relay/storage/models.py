"""All models in one import, for Alembic and for callers."""

from relay.storage.admin import (
    AddressBook,
    AuditEntry,
    Campaign,
    Contact,
    ImportJob,
    messages_archive,
)
from relay.storage.base import Base
from relay.storage.compliance import ALL_CHANNELS, ConsentRecord, NumberRange, StopEntry
from relay.storage.messaging import (
    MESSAGE_STATUSES,
    Event,
    Flow,
    InboundMessage,
    Message,
    MessageHistory,
    Template,
)
from relay.storage.replies import InboundNumber, Survey, SurveyResponse
from relay.storage.tenancy import (
    ApiKey,
    ConnectorInbox,
    Installation,
    Provider,
    SenderName,
    Tenant,
    TenantProvider,
)

__all__ = [
    "InboundNumber",
    "Survey",
    "SurveyResponse",
    "AddressBook",
    "AuditEntry",
    "Campaign",
    "Contact",
    "ImportJob",
    "messages_archive",
    "ALL_CHANNELS",
    "MESSAGE_STATUSES",
    "ApiKey",
    "Base",
    "ConnectorInbox",
    "ConsentRecord",
    "Event",
    "Flow",
    "InboundMessage",
    "Installation",
    "Message",
    "MessageHistory",
    "NumberRange",
    "Provider",
    "SenderName",
    "StopEntry",
    "Template",
    "Tenant",
    "TenantProvider",
]
